using System.Text.Json.Nodes;
using HappyWhale.Experiments;

namespace HappyWhale.Pipeline;

/// <summary>
/// One group of a stage's key document: a section of the experiment, whole, some of its keys (<see cref="Only"/>) or all
/// but some (<see cref="Except"/>). <see cref="Name"/> null puts the keys at the top of the document (synth and prepare
/// always had them there); otherwise they sit under that name ("split" holds data keys).
/// </summary>
public sealed record KeyGroup(string? Name, string Section)
{
    public IReadOnlyList<string> Only { get; init; } = [];
    public IReadOnlyList<string> Except { get; init; } = [];

    /// <summary>
    /// Keys added after entries were cached, left out of the key while they hold their "off" value, so the entries
    /// cached before them keep their keys (evaluate.blend_logits at 0). A number matches by value (0 and 0.0).
    /// </summary>
    public IReadOnlyDictionary<string, JsonNode> AbsentWhen { get; init; } = new Dictionary<string, JsonNode>();

    /// <summary>The dotted experiment keys this group covers ("model", "data.seed").</summary>
    public IEnumerable<string> Keys => Only.Count > 0 ? Only.Select(k => $"{Section}.{k}") : [Section];

    /// <summary>Keys inside <see cref="Keys"/> that the group leaves out.</summary>
    public IEnumerable<string> Excluded => Except.Select(k => $"{Section}.{k}");

    internal JsonObject Slice(ResolvedExperiment experiment)
    {
        var section = experiment.Section(Section)!.AsObject();
        JsonObject slice;
        if (Only.Count > 0)
        {
            slice = new JsonObject();
            // An absent key is written as null: a key is the same whether the section spells it out or not.
            foreach (var key in Only) slice[key] = section[key]?.DeepClone();
        }
        else
        {
            slice = section;
            foreach (var key in Except) slice.Remove(key);
        }
        foreach (var (key, off) in AbsentWhen)
            if (slice[key] is { } value && SameValue(value, off)) slice.Remove(key);
        return OptionalKeys.Strip(Section, slice);
    }

    static bool SameValue(JsonNode a, JsonNode b) => Number(a) is { } x && Number(b) is { } y ? x == y : JsonNode.DeepEquals(a, b);

    static double? Number(JsonNode node) =>
        node is JsonValue && double.TryParse(node.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var x) ? x : null;
}

/// <summary>
/// What a stage reads of the experiment, as data next to its version (DVC's idea: a stage is a function of declared
/// inputs). <see cref="Request"/> is the one key function every stage's key comes from: the declared groups, then the
/// values the stage adds itself (a phase, a round, an image size), the input stages' keys and file fingerprints.
/// </summary>
/// <param name="Reads">the groups of the key document, in the order they are written (the hash sorts them anyway).</param>
public sealed record StageDeclaration(string Stage, int Version, IReadOnlyList<KeyGroup> Reads)
{
    /// <summary>Keys the computation reads that change how fast it runs, not what it writes (threads, device): not in the key.</summary>
    public IReadOnlyList<string> RuntimeKeys { get; init; } = [];

    /// <summary>Keys the computation reads through a value the stage puts in the key itself (train.phases as "phase").</summary>
    public IReadOnlyList<string> ReadsAsValues { get; init; } = [];

    /// <summary>
    /// Keys the computation reads although its key leaves them out, each a known gap kept because adding it would change
    /// every cached key of the stage (see the declaring stage for why it is harmless). Listed, so the gap is visible.
    /// </summary>
    public IReadOnlyList<string> ReadsUnkeyed { get; init; } = [];

    /// <summary>Keys the computation reads that an input stage's key already holds (pseudo_label's model section, via its model's train key).</summary>
    public IReadOnlyList<string> ReadsThroughInputs { get; init; } = [];

    IEnumerable<string> OtherReads => RuntimeKeys.Concat(ReadsAsValues).Concat(ReadsUnkeyed).Concat(ReadsThroughInputs);

    /// <summary>Every dotted key the computation may read.</summary>
    public IEnumerable<string> Keys => Reads.SelectMany(g => g.Keys).Concat(OtherReads);

    /// <summary>True when <paramref name="key"/> (a leaf, "train.augment.rotate_deg") is one the computation may read.</summary>
    public bool Declares(string key)
    {
        static bool Covers(string declared, string key) => key == declared || key.StartsWith(declared + ".", StringComparison.Ordinal);
        bool excluded = Reads.SelectMany(g => g.Excluded).Any(e => Covers(e, key));
        bool inGroups = Reads.SelectMany(g => g.Keys).Any(k => Covers(k, key)) && !excluded;
        return inGroups || OtherReads.Any(k => Covers(k, key));
    }

    /// <summary>The parameters of the key document: each group's slice, then <paramref name="values"/> (which win).</summary>
    public JsonObject Parameters(ResolvedExperiment experiment, JsonObject? values = null)
    {
        var parameters = new JsonObject();
        foreach (var group in Reads)
        {
            var slice = group.Slice(experiment);
            if (group.Name is { } name) parameters[name] = slice;
            else foreach (var (key, value) in slice.ToList()) { slice.Remove(key); parameters[key] = value; }
        }
        foreach (var (key, value) in values ?? new JsonObject()) parameters[key] = value?.DeepClone();
        return parameters;
    }

    /// <summary>The stage's request, whose <see cref="StageRequest.Key"/> is the cache key.</summary>
    public StageRequest Request(ResolvedExperiment experiment, JsonObject? values = null, IReadOnlyDictionary<string, string>? inputs = null,
        IReadOnlyDictionary<string, string>? fingerprints = null) =>
        new(Stage, Version, Parameters(experiment, values), inputs ?? new Dictionary<string, string>(), fingerprints ?? new Dictionary<string, string>());

    /// <summary>The request of a stage that reads no group of the experiment (its values say everything).</summary>
    public StageRequest Request(JsonObject values, IReadOnlyDictionary<string, string>? inputs = null, IReadOnlyDictionary<string, string>? fingerprints = null) =>
        Reads.Count == 0 ? new(Stage, Version, values, inputs ?? new Dictionary<string, string>(), fingerprints ?? new Dictionary<string, string>())
            : throw new InvalidOperationException($"{Stage} reads the experiment: build its request from one");

    /// <summary>
    /// The spec the computation is given: the experiment's, or with <paramref name="undeclared"/> set, bound with every key
    /// this declaration does not list replaced by what it returns (the declarations test makes them other values).
    /// </summary>
    public ExperimentSpec SpecFor(ResolvedExperiment experiment, Func<string, JsonNode?, JsonNode?>? undeclared) =>
        undeclared is null ? experiment.Spec : experiment.SpecWith(Declares, undeclared);
}
