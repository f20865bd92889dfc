using System.Text.Json;
using System.Text.Json.Nodes;
using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Tests.EndToEnd;
using HappyWhale.Tests.Experiments;

namespace HappyWhale.Tests.Pipeline;

/// <summary>
/// Each stage's key holds what its StageDeclaration lists, so a computation must read nothing else. The check binds the
/// spec every stage computes with from only its declared keys: every other key takes another value (a number moved, a
/// flag flipped, a name no code knows, another enum member). Computed that way, every entry must hold the same files
/// as computed normally; a stage that reads a key it does not declare writes other outputs (or stops).
/// </summary>
// Bitwise comparisons of two trainings fail beside other in-process training tests (torch's global seed and threads are
// shared), so this runs in the collection that runs alone, as DeviceTrainingTests do.
[Collection(HappyWhale.Tests.Training.DeviceTrainingCollection.Name)]
public sealed class StageDeclarationTests
{
    [Fact(Timeout = 20 * 60 * 1000)]
    public async Task Every_stage_computes_the_same_outputs_from_only_its_declared_keys()
    {
        await Task.Run(() =>
        {
            string[] sets = ["pseudo_label.rounds=1", "evaluate.tta_hflip=true"];
            using var normal = new TestRepository();
            using var restricted = new TestRepository();
            foreach (var repo in new[] { normal, restricted }) repo.Write("tiny.yaml", TinyExperiment.Yaml);

            var expected = new ExperimentPipeline(ExperimentLoader.Load(normal.Experiments, "tiny", sets), new PipelineOptions(normal.Root)).Run(StageNames.Evaluate);
            var actual = new ExperimentPipeline(ExperimentLoader.Load(restricted.Experiments, "tiny", sets),
                new PipelineOptions(restricted.Root) { UndeclaredKeys = Other }).Run(StageNames.Evaluate);

            Assert.Equal(expected.Stages.Select(s => $"{s.Stage}/{s.Key}"), actual.Stages.Select(s => $"{s.Stage}/{s.Key}"));
            Assert.Contains(actual.Stages, s => s.Stage == StageNames.PseudoLabel);
            foreach (var (want, got) in expected.Stages.Zip(actual.Stages))
                Assert.True(Files(want) == Files(got),
                    $"{want.Label} ({want.Stage}) wrote other files when its undeclared keys changed: it reads a key its StageDeclaration " +
                    $"does not list.\nnormal:     {Files(want)}\nrestricted: {Files(got)}");
        });
    }

    [Fact]
    public void The_declarations_list_what_the_keys_hold()
    {
        var e = ExperimentLoader.Load(ExperimentFiles.RepoExperimentsDir, "quickstart");
        Assert.True(TrainStage.Declaration.Declares("train.augment.rotate_deg"));
        Assert.True(TrainStage.Declaration.Declares("data.fold"));
        Assert.False(TrainStage.Declaration.Declares("data.on_bad_image"));
        Assert.False(TrainStage.Declaration.Declares("train.final_fit"));
        Assert.True(TrainStage.Declaration.Declares("train.device"));   // read, as a runtime key, never keyed
        var train = TrainStage.Request(e, 0, 64, "prep", null, imageNetKey: "weights");
        Assert.Equal(["model", "phase", "phase_index", "split", "train"], train.Parameters.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.False(train.Parameters["train"]!.AsObject().ContainsKey("device"));
        Assert.False(PrepareStage.Declaration(e.Spec.Data).Declares("train.augment.rotate_deg"));
        // Added later, keyed only when on: the quickstart's evaluate key has no blend_logits.
        var evaluate = EvaluateStage.Request(e, [new EvaluationModel(EvaluateStage.Self, e.Spec.Model, "t", "")], "prep");
        Assert.False(evaluate.Parameters["evaluate"]!.AsObject().ContainsKey("blend_logits"));
        var blended = ExperimentLoader.Load(ExperimentFiles.RepoExperimentsDir, "quickstart", ["evaluate.blend_logits=0.5"]);
        Assert.True(EvaluateStage.Request(blended, [new EvaluationModel(EvaluateStage.Self, e.Spec.Model, "t", "")], "prep")
            .Parameters["evaluate"]!.AsObject().ContainsKey("blend_logits"));
    }

    static string Files(StageRun run) =>
        string.Join(" ", run.Manifest.Files.OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => $"{f.Path}:{Content(run, f)}"));

    /// <summary>A file's hash; history.json's without its timings (images_per_second, seconds), which no two runs share.</summary>
    static string Content(StageRun run, ManifestFile file)
    {
        if (file.Path != TrainStage.HistoryFile) return file.Sha256[..12];
        var epochs = JsonNode.Parse(File.ReadAllText(Path.Combine(run.Folder, file.Path)))!.AsArray();
        foreach (var epoch in epochs) { epoch!.AsObject().Remove("images_per_second"); epoch.AsObject().Remove("seconds"); }
        return CanonicalJson.Sha256Hex(epochs)[..12];
    }

    /// <summary>Another valid value of the same type for an undeclared key.</summary>
    static JsonNode? Other(string key, JsonNode? value)
    {
        var type = SpecProperties.TypeOf(key);
        if (type is { IsEnum: true } enumType)
        {
            string current = value?.GetValue<string>() ?? "";
            var other = Enum.GetNames(enumType).Select(JsonNamingPolicy.SnakeCaseLower.ConvertName).First(n => n != current);
            return JsonValue.Create(other);
        }
        return value switch
        {
            null => type == typeof(string) ? JsonValue.Create("undeclared:" + key) : null,
            JsonArray list when list.All(i => i is JsonValue v && v.GetValueKind() == JsonValueKind.String) =>
                new JsonArray([.. list.Select(i => i!.DeepClone()), JsonValue.Create("undeclared")]),
            JsonArray list => new JsonArray([.. list.Select(i => i is JsonObject o ? OtherLeaves(key, o) : i?.DeepClone())]),
            JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => JsonValue.Create(!v.GetValue<bool>()),
            JsonValue v when v.GetValueKind() == JsonValueKind.Number && double.TryParse(v.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture, out var d) =>
                d == Math.Floor(d) && !v.ToJsonString().Contains('.') && !v.ToJsonString().Contains('e') ? JsonValue.Create((long)d + 1) : JsonValue.Create(d + 0.125),
            JsonValue v when v.GetValueKind() == JsonValueKind.String => JsonValue.Create("undeclared:" + key),
            _ => value.DeepClone(),
        };
    }

    static JsonObject OtherLeaves(string key, JsonObject item)
    {
        var copy = new JsonObject();
        foreach (var (k, v) in item) copy[k] = v is JsonObject o ? OtherLeaves($"{key}.{k}", o) : Other($"{key}.{k}", v);
        return copy;
    }
}
