namespace HappyWhale.Experiments;

// How and where stages are computed. None of these keys is part of a stage's cache key: they
// change where an entry is computed and stored, never what it holds.

public sealed record CacheSpec
{
    public string? Root { get; init; }
}

/// <summary>The sbatch settings of the jobs an experiment's stages become with executor: slurm.</summary>
public sealed record SlurmSpec
{
    public string? Partition { get; init; }
    public string? Account { get; init; }
    public string? Gres { get; init; }
    public int Cpus { get; init; }
    public string? Mem { get; init; }
    public string? Time { get; init; }
    public IReadOnlyList<string> ExtraSbatch { get; init; } = [];
    public IReadOnlyList<string> Setup { get; init; } = [];
    public int ArrayParallelism { get; init; }
}
