using HappyWhale.Experiments;

namespace HappyWhale.Pipeline.Executors;

/// <summary>
/// One stage key to compute as a job: which experiment walk reaches it, which planned stages it
/// needs first (indices into the same plan), and the job settings of the experiment that planned it.
/// </summary>
public sealed record PlannedStage(
    int Index,
    string Stage,
    string Key,
    string Label,
    ExperimentRef Experiment,
    string LastStage,
    bool Force,
    string CacheRoot,
    IReadOnlyList<int> DependsOn,
    SlurmSpec Slurm,
    List<string> UsedBy)
{
    public string ShortKey => Key[..12];
}

/// <summary>
/// Records the stage graph of experiments without computing anything: every stage is deferred
/// while the pipeline walks it, so each key is derived exactly as a local run derives it. A key
/// already cached (and not forced) needs no job; a key reached from several experiments (a shared
/// synthetic set, prepared images, a first training phase) is planned once.
/// </summary>
public sealed class StagePlanner : IStageGate
{
    sealed record Node(StageRequest Request, PlannedStage? Job);

    readonly PipelineOptions _options;
    readonly IReadOnlySet<string> _computed;
    readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);
    readonly List<PlannedStage> _jobs = [];
    int _cached;
    (ExperimentRef Ref, ResolvedExperiment Experiment, string LastStage)? _current;

    /// <param name="computed">keys jobs of this submission already computed: a forced stage is not forced again on a retry</param>
    public StagePlanner(PipelineOptions options, IReadOnlySet<string>? computed = null)
    {
        _options = options with { Gate = this };
        _computed = computed ?? new HashSet<string>();
    }

    public IReadOnlyList<PlannedStage> Jobs => _jobs;

    /// <summary>Experiments whose walk stopped at a stage whose outputs later keys need: planned again once it is computed.</summary>
    public IReadOnlyList<string> Waiting => _waiting;
    readonly List<string> _waiting = [];

    /// <summary>Planning runs no model: the login node need not have the jobs' GPUs.</summary>
    public bool UsesDevice => false;

    /// <summary>Distinct stage keys found cached.</summary>
    public int Cached => _cached;

    /// <summary>Walks one experiment's stages up to <paramref name="lastStage"/> and adds the keys it needs.</summary>
    public void Add(ExperimentRef reference, ResolvedExperiment experiment, string lastStage)
    {
        _current = (reference, experiment, lastStage);
        try { new ExperimentPipeline(experiment, _options).Run(lastStage); }
        catch (StageOutputsPending pending) { _waiting.Add($"{experiment.Name} after {pending.Stage.Label}"); }
        finally { _current = null; }
    }

    public StageDecision Decide(StageRequest request, string label, StageCache cache)
    {
        var (reference, experiment, lastStage) = _current ?? throw new InvalidOperationException("StagePlanner.Decide outside Add");
        string key = request.Key;
        // Keyed by cache too: experiments with different cache.root keep separate entries.
        string node = cache.Root + "\n" + key;
        if (_nodes.TryGetValue(node, out var known))
        {
            if (known.Job is { } job && !job.UsedBy.Contains(experiment.Name)) job.UsedBy.Add(experiment.Name);
            return StageDecision.Defer;
        }
        bool force = _options.Forces(request.Stage) && !_computed.Contains(key);
        PlannedStage? planned = null;
        if (force || cache.TryGet(request) is null)
        {
            planned = new PlannedStage(_jobs.Count, request.Stage, key, label, reference, lastStage, force, cache.Root,
                JobsBehind(request), experiment.Spec.Slurm, [experiment.Name]);
            _jobs.Add(planned);
        }
        else _cached++;
        _nodes[node] = new Node(request, planned);
        return StageDecision.Defer;
    }

    /// <summary>
    /// The planned stages a request needs, followed through cached entries too: an evaluate whose
    /// prepared images are cached still reads the synthetic folder they were made from.
    /// </summary>
    List<int> JobsBehind(StageRequest request)
    {
        var found = new SortedSet<int>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<StageRequest>([request]);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            foreach (var (id, node) in _nodes)
            {
                if (!current.References(node.Request.Key) || !visited.Add(id)) continue;
                if (node.Job is { } job) found.Add(job.Index);
                else pending.Push(node.Request);
            }
        }
        return found.ToList();
    }
}
