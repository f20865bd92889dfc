using System.Text.Json;
using System.Text.Json.Nodes;
using HappyWhale.Experiments;
using HappyWhale.Pipeline;

namespace HappyWhale.Reporting;

/// <summary>
/// artifacts/runs/&lt;experiment&gt;/&lt;timestamp&gt;/: the resolved experiment, the stage keys, copies of metrics.json,
/// submission.csv and threshold.png, and the per-epoch curves (curves.png), so one folder answers "what ran, from what, and
/// how well". Every file in it is logged to the run in MLflow.
/// </summary>
public static class RunFolder
{
    public const string ResolvedFile = "resolved.yaml", StagesFile = "stages.json";

    public static string Write(string runsRoot, ResolvedExperiment experiment, PipelineResult result)
    {
        string folder = Path.Combine(runsRoot, experiment.Name, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff"));
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, ResolvedFile), experiment.ToYaml());
        var stages = new JsonArray(result.Stages.Select(s => (JsonNode)new JsonObject
        {
            ["stage"] = s.Stage, ["label"] = s.Label, ["key"] = s.Key,
            ["cache"] = s.Outcome == CacheOutcome.Hit ? "hit" : "run", ["seconds"] = Math.Round(s.Duration.TotalSeconds, 3),
        }).ToArray());
        File.WriteAllText(Path.Combine(folder, StagesFile), stages.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (result.Last(StageNames.Evaluate) is { } evaluated)
            foreach (var file in new[] { EvaluateStage.MetricsFile, EvaluateStage.SubmissionFile, EvaluateStage.ThresholdPlotFile })
                if (File.Exists(Path.Combine(evaluated.Folder, file)))
                    File.Copy(Path.Combine(evaluated.Folder, file), Path.Combine(folder, file));
        if (result.History.Count > 0) EpochCurves.Write(Path.Combine(folder, EpochCurves.File), result.History);
        return folder;
    }
}
