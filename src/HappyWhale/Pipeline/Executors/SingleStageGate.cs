namespace HappyWhale.Pipeline.Executors;

/// <summary>
/// The gate of a cluster job: the pipeline walks the experiment as usual, computes the one key the
/// job was planned for, takes the stages it needs from the (shared) cache, and leaves the rest to
/// their own jobs.
/// </summary>
public sealed class SingleStageGate(string key, bool force, string stage) : IStageGate
{
    /// <summary>Only the stages that run a model need train.device (a prepare job may run on a node without the GPU).</summary>
    public bool UsesDevice => stage is StageNames.Train or StageNames.Evaluate or StageNames.PseudoLabel;

    readonly Dictionary<string, (StageRequest Request, StageCache Cache)> _earlier = new(StringComparer.Ordinal);

    /// <summary>The walk reached the planned key (false: the experiment no longer has it).</summary>
    public bool Reached { get; private set; }

    /// <summary>The planned stage as this job ran it (computed, or a hit when another run computed it first).</summary>
    public StageRun? Target { get; private set; }

    public StageDecision Decide(StageRequest request, string label, StageCache cache)
    {
        string k = request.Key;
        if (k == key && !Reached)
        {
            Reached = true;
            // An input may live in another cache (evaluate.models naming an experiment with its own cache.root).
            foreach (var (input, inputCache) in _earlier.Values.Where(e => request.References(e.Request.Key)))
                if (inputCache.TryGet(input) is null)
                    throw new UserException($"{label}: its input {input.Stage}/{input.Key[..12]} is not in the cache at {inputCache.Root}. " +
                                            "The job computing it should have completed first; if it did, this node does not see the same cache " +
                                            "(cache.root must be on a filesystem every node shares, see docs/slurm.md).");
            return force ? StageDecision.Force : StageDecision.Cache;
        }
        _earlier.TryAdd(k, (request, cache));
        return cache.TryGet(request) is not null ? StageDecision.Cache : StageDecision.Defer;
    }

    public StageRun Completed(StageRun run)
    {
        if (run.Key == key && Target is null) Target = run;
        return run;
    }
}
