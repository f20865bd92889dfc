using HappyWhale.Experiments;

namespace HappyWhale.Pipeline;

/// <summary>One variant x seed of an ablation, as run (or served from the cache).</summary>
public sealed record AblationRun(string Variant, int Seed, ResolvedExperiment Experiment, PipelineResult Result, double TrainSeconds);

/// <summary>
/// Runs every variant x seed of an ablation through the stage cache, so stages the variants
/// share (the synthetic set, prepared images, a first phase) are computed once, and a re-run
/// of a finished ablation recomputes nothing. <c>runOne</c> runs one variant x seed (default: its pipeline up to
/// evaluate); the Cli passes one that also tracks it.
/// </summary>
public static class AblationRunner
{
    public static IReadOnlyList<AblationRun> Run(AblationSpec ablation, PipelineOptions options, Action<string>? log = null,
        Func<ResolvedExperiment, PipelineResult>? runOne = null)
    {
        runOne ??= experiment => new ExperimentPipeline(experiment, options).Run(StageNames.Evaluate);
        var runs = new List<AblationRun>();
        int total = ablation.Variants.Sum(v => v.Runs.Count), done = 0;
        foreach (var variant in ablation.Variants)
            foreach (var (seed, experiment) in variant.Runs)
            {
                log?.Invoke($"[{++done}/{total}] {variant.Name}, seed {seed}");
                var result = runOne(experiment);
                runs.Add(new AblationRun(variant.Name, seed, experiment, result, TrainSeconds(result)));
            }
        return runs;
    }

    /// <summary>Compute time of the train stages as recorded when they ran (a cache hit reports the original time).</summary>
    static double TrainSeconds(PipelineResult result) =>
        result.Stages.Where(s => s.Stage == StageNames.Train).Sum(s => s.Manifest.Seconds);
}
