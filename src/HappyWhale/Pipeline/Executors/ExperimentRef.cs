using HappyWhale.Experiments;

namespace HappyWhale.Pipeline.Executors;

/// <summary>
/// How a job finds the experiment a stage belongs to: the same files and arguments the submitting
/// command loaded it from (an experiment with its --set and --overlay, or one variant x seed of an
/// ablation), so the job derives the stage keys itself instead of trusting a copy.
/// </summary>
public sealed record ExperimentRef(
    string? Exp = null,
    IReadOnlyList<string>? Sets = null,
    IReadOnlyList<string>? Overlays = null,
    string? Ablation = null,
    string? Variant = null,
    int? Seed = null)
{
    public static ExperimentRef ForExperiment(string name, IReadOnlyList<string> sets, IReadOnlyList<string> overlays) =>
        new(Exp: name, Sets: sets, Overlays: overlays);

    public static ExperimentRef ForAblationRun(string ablation, string variant, int seed) =>
        new(Ablation: ablation, Variant: variant, Seed: seed);

    public ResolvedExperiment Load(string repoRoot)
    {
        string experiments = Path.Combine(repoRoot, "experiments");
        if (Ablation is null)
            return ExperimentLoader.Load(experiments, Exp ?? throw new InvalidDataException("a job's experiment reference names neither an experiment nor an ablation"),
                Sets ?? [], Overlays ?? []);
        var ablation = AblationLoader.Load(experiments, Ablation);
        var variant = ablation.Variants.FirstOrDefault(v => v.Name == Variant)
            ?? throw new UserException($"ablation {Ablation} has no variant '{Variant}' any more; it changed since the jobs were submitted: submit again.");
        return variant.Runs.Where(r => r.Seed == Seed).Select(r => r.Experiment).FirstOrDefault()
            ?? throw new UserException($"ablation {Ablation}, variant {Variant} has no seed {Seed} any more; it changed since the jobs were submitted: submit again.");
    }

    public override string ToString() =>
        Ablation is not null ? $"{Ablation}/{Variant}/s{Seed}"
        : Exp + string.Concat((Overlays ?? []).Select(o => $" --overlay {o}")) + string.Concat((Sets ?? []).Select(s => $" --set {s}"));
}
