using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Training;

/// <summary>
/// train.ema: an exponential moving average of a model's weights and floating-point buffers (BatchNorm statistics),
/// updated after every optimizer step: avg = d avg + (1 - d) w. The decay ramps up as d_t = min(d, (1 + t) / (10 + t))
/// so that the average is not dominated by the random initial weights in a short run (as timm's ModelEmaV2 warm-up).
/// Integer buffers (batches seen) are copied. The averages are buffers of this module, so it saves and loads
/// as one file next to the phase checkpoint.
/// </summary>
public sealed class WeightAverage : nn.Module
{
    readonly List<(Tensor Live, Tensor Average)> _pairs = [];
    readonly double _decay;
    long _updates;

    public WeightAverage(nn.Module model, double decay) : base(nameof(WeightAverage))
    {
        if (decay is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(decay), decay, "must be in (0, 1)");
        _decay = decay;
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters()) Track(name, p);
            foreach (var (name, b) in model.named_buffers()) Track(name, b);
        }
    }

    void Track(string name, Tensor live)
    {
        var average = live.detach().clone();
        register_buffer(name.Replace('.', '_'), average);
        _pairs.Add((live, average));
    }

    /// <summary>Steps averaged so far (set when a checkpoint is resumed: the decay's ramp depends on it).</summary>
    public long Updates { get => _updates; set => _updates = value; }

    /// <summary>Folds the model's current weights into the average (call after each optimizer step).</summary>
    public void Update()
    {
        double d = Math.Min(_decay, (1.0 + _updates) / (10.0 + _updates));
        _updates++;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (live, average) in _pairs)
        {
            if (average.is_floating_point()) average.mul_(Scalars.Of(d)).add_(live.detach(), alpha: Scalars.Of(1 - d));
            else average.copy_(live);
        }
    }

    /// <summary>Writes the average into the model (at the end of the phase: the model saved is the average).</summary>
    public void CopyInto()
    {
        using var _ = no_grad();
        foreach (var (live, average) in _pairs) live.copy_(average);
    }
}
