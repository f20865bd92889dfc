using HappyWhale.Experiments;
using HappyWhale.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Training;

/// <summary>
/// The optimizer with one parameter group per named model group (stem, early, late, neck, head),
/// each with its learning-rate multiplier, and the freezing of groups by epoch (sequential
/// unfreezing): a frozen group has requires_grad off and its BatchNorm layers in eval mode, so
/// neither its weights nor its running statistics move.
/// </summary>
public sealed class GroupedOptimizer : IDisposable
{
    readonly ReidModel _model;
    readonly TrainSpec _spec;
    readonly List<(string Group, IReadOnlyList<Parameter> Parameters)> _groups;
    readonly Dictionary<string, string> _groupOfParameter = new(StringComparer.Ordinal);

    public OptimizerHelper Optimizer { get; }

    public GroupedOptimizer(ReidModel model, TrainSpec spec, int earlyUntil, double lr)
    {
        _model = model;
        _spec = spec;
        _groups = model.ParameterGroups(earlyUntil).Where(g => g.Parameters.Count > 0).ToList();
        var byHandle = _groups.SelectMany(g => g.Parameters.Select(p => (p.Handle, Name: g.Group))).ToDictionary(x => x.Handle, x => x.Name);
        foreach (var (name, p) in model.named_parameters()) _groupOfParameter[name] = byHandle[p.Handle];
        Optimizer = spec.Optimizer switch
        {
            OptimizerType.Sgd => optim.SGD(_groups.Select(g => new SGD.ParamGroup(g.Parameters, lr, spec.Momentum, 0, spec.WeightDecay, false, false)), lr,
                spec.Momentum, 0, spec.WeightDecay),
            _ => new LeanAdamW(_groups.Select(g => new AdamW.ParamGroup(g.Parameters, lr, 0.9, 0.999, 1e-8, spec.WeightDecay, false, false)), lr,
                spec.WeightDecay),
        };
    }

    /// <summary>Sets each group's rate to the schedule's rate times the group's multiplier.</summary>
    public void SetLearningRate(double lr)
    {
        int i = 0;
        foreach (var group in Optimizer.ParamGroups) group.LearningRate = lr * _spec.LrGroups.For(_groups[i++].Group);
    }

    public IReadOnlyDictionary<string, double> LearningRates()
    {
        int i = 0;
        return Optimizer.ParamGroups.ToDictionary(_ => _groups[i++].Group, g => g.LearningRate);
    }

    public bool IsTrainable(string group, int epoch) => epoch >= _spec.Unfreeze.For(group);

    /// <summary>Call after model.train() at the start of an epoch.</summary>
    public void ApplyFreezing(int epoch)
    {
        foreach (var (name, p) in _model.named_parameters()) p.requires_grad = IsTrainable(_groupOfParameter[name], epoch);
        foreach (var (name, module) in _model.named_modules())
            if (module is BatchNorm1d or BatchNorm2d && _groupOfParameter.TryGetValue(name + ".weight", out var group) && !IsTrainable(group, epoch))
                module.eval();
    }

    public void Dispose() => Optimizer.Dispose();
}
