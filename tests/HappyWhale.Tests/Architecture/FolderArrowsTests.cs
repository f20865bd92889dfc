using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace HappyWhale.Tests.Architecture;

/// <summary>
/// The rooms of src/HappyWhale and the one direction their arrows run (docs/architecture.md): a folder may name only
/// folders below it. Counted from the source text, so it needs no build of anything: every `HappyWhale.&lt;Folder&gt;`
/// (a using, a qualified name) and every `&lt;Folder&gt;.&lt;Type&gt;` that names a type declared in that folder (a partly
/// qualified name resolves from inside the HappyWhale namespace without a using).
/// </summary>
public sealed class FolderArrowsTests(ITestOutputHelper output)
{
    /// <summary>Bottom first. A room may name the rooms before it; Reporting and Tracking share a floor and name neither each other.</summary>
    static readonly string[][] Floors =
    [
        ["Experiments"],
        ["Data"], ["Imaging"], ["Modeling"], ["Training"], ["Evaluation"],
        ["Pipeline"],
        ["Reporting", "Tracking"],
    ];

    /// <summary>The files directly in src/HappyWhale (AtomicFile, FileLock, UserException...): below every room, naming none.</summary>
    const string Root = "(root)";

    static readonly string[] Rooms = Floors.SelectMany(f => f).ToArray();

    static int FloorOf(string room) => room == Root ? -1 : Array.FindIndex(Floors, f => f.Contains(room));

    [Fact]
    public void Every_arrow_between_folders_runs_down_and_none_forms_a_cycle()
    {
        var arrows = CountArrows(SourceRoot());
        foreach (var ((from, to), files) in arrows.OrderBy(a => FloorOf(a.Key.From)).ThenBy(a => a.Key.From).ThenBy(a => a.Key.To))
            output.WriteLine($"{from} -> {to}: {files.Count} reference(s) in {string.Join(", ", files.Distinct())}");

        var wrong = arrows.Where(a => FloorOf(a.Key.To) >= FloorOf(a.Key.From))
            .Select(a => $"{a.Key.From} -> {a.Key.To} ({string.Join(", ", a.Value.Distinct())})").ToList();
        var cycle = FindCycle(arrows.Keys.ToList());
        Assert.True(wrong.Count == 0 && cycle is null,
            (wrong.Count > 0 ? $"arrows that break the order {Order()}:\n  {string.Join("\n  ", wrong)}\n" : "") +
            (cycle is null ? "" : $"cycle: {string.Join(" -> ", cycle)}"));
    }

    [Fact]
    public void The_count_sees_a_using_a_qualified_name_and_a_partly_qualified_type()
    {
        var types = new Dictionary<string, HashSet<string>> { ["Pipeline"] = ["SourceFingerprint"], ["Data"] = ["FileTree"] };
        Assert.Equal(["Pipeline"], Referenced("using HappyWhale.Pipeline;", "Data", types));
        Assert.Equal(["Pipeline"], Referenced("var x = HappyWhale.Pipeline.StageNames.Train;", "Data", types));
        Assert.Equal(["Pipeline"], Referenced("text.Append(Pipeline.SourceFingerprint.Compute(root));", "Data", types));
        // A property that happens to share a room's name is no reference: spec.Data.Source, Data.Seed.
        Assert.Empty(Referenced("int s = spec.Data.Seed + Data.Seed;", "Pipeline", types));
    }

    static string Order() => string.Join(" < ", Floors.Select(f => f.Length == 1 ? f[0] : "{" + string.Join(", ", f) + "}"));

    static string SourceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "HappyWhale.sln"))) return Path.Combine(dir.FullName, "src", "HappyWhale");
        throw new InvalidOperationException("HappyWhale.sln not found above " + AppContext.BaseDirectory);
    }

    static string RoomOf(string sourceRoot, string file)
    {
        var parts = Path.GetRelativePath(sourceRoot, file).Split(Path.DirectorySeparatorChar);
        return parts.Length == 1 ? Root : parts[0];
    }

    /// <summary>(from, to) -> the files (one entry per reference) of <c>from</c> that name <c>to</c>.</summary>
    static Dictionary<(string From, string To), List<string>> CountArrows(string sourceRoot)
    {
        var files = Directory.EnumerateFiles(sourceRoot, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") &&
                        !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Select(f => (File: f, Room: RoomOf(sourceRoot, f), Text: File.ReadAllText(f))).ToList();
        var unknown = files.Select(f => f.Room).Where(r => r != Root && !Rooms.Contains(r)).Distinct().ToList();
        Assert.True(unknown.Count == 0, $"folders with no floor in this test (add them to Floors and docs/architecture.md): {string.Join(", ", unknown)}");

        var types = Rooms.ToDictionary(r => r, _ => new HashSet<string>(StringComparer.Ordinal));
        foreach (var f in files.Where(f => f.Room != Root))
            foreach (Match m in Regex.Matches(f.Text, @"\b(?:class|record|interface|enum|struct)\s+(\w+)"))
                types[f.Room].Add(m.Groups[1].Value);

        var arrows = new Dictionary<(string, string), List<string>>();
        foreach (var f in files)
            foreach (var to in Referenced(f.Text, f.Room, types))
            {
                if (!arrows.TryGetValue((f.Room, to), out var list)) arrows[(f.Room, to)] = list = [];
                list.Add(Path.GetRelativePath(sourceRoot, f.File).Replace('\\', '/'));
            }
        return arrows;
    }

    /// <summary>Every room <paramref name="text"/> (a file of <paramref name="room"/>) names, once per reference.</summary>
    static List<string> Referenced(string text, string room, IReadOnlyDictionary<string, HashSet<string>> typesOf)
    {
        var found = new List<string>();
        foreach (Match m in Regex.Matches(text, @"(?<![\w.])HappyWhale\.(\w+)"))
            if (m.Groups[1].Value != room && Rooms.Contains(m.Groups[1].Value))
                found.Add(m.Groups[1].Value);
        foreach (Match m in Regex.Matches(text, @"(?<![\w.])(\w+)\.(\w+)"))
            if (m.Groups[1].Value != room && typesOf.TryGetValue(m.Groups[1].Value, out var types) && types.Contains(m.Groups[2].Value))
                found.Add(m.Groups[1].Value);
        return found;
    }

    /// <summary>A cycle among the arrows as the rooms along it (first = last), or null.</summary>
    static List<string>? FindCycle(IReadOnlyList<(string From, string To)> arrows)
    {
        var next = arrows.GroupBy(a => a.From).ToDictionary(g => g.Key, g => g.Select(a => a.To).Order(StringComparer.Ordinal).ToList());
        var state = new Dictionary<string, int>();   // 1 = on the current path, 2 = done
        var path = new List<string>();
        List<string>? Visit(string room)
        {
            state[room] = 1;
            path.Add(room);
            foreach (var to in next.GetValueOrDefault(room) ?? [])
            {
                if (state.GetValueOrDefault(to) == 1) return [.. path.Skip(path.IndexOf(to)), to];
                if (state.GetValueOrDefault(to) == 0 && Visit(to) is { } found) return found;
            }
            path.RemoveAt(path.Count - 1);
            state[room] = 2;
            return null;
        }
        foreach (var room in next.Keys.Order(StringComparer.Ordinal))
            if (state.GetValueOrDefault(room) == 0 && Visit(room) is { } cycle) return cycle;
        return null;
    }
}
