using System.Diagnostics;
using HappyWhale.Experiments;
using HappyWhale.Modeling;
using HappyWhale.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Benchmarks;

/// <summary>
/// Stopwatch report: forward + backward milliseconds of <see cref="DepthwiseConv2d"/> against libtorch's grouped
/// Conv2d on EfficientNet-B0's depthwise shapes at 64 and 128 px (batch 32, channels-last, 2 threads), and which
/// weight gradient the layer takes. Run: `HappyWhale.Benchmarks.dll depthwise-gradient` (with build/runtime_env.sh).
/// </summary>
public static class DepthwiseGradient
{
    public static void Run(int rounds = 25)
    {
        torch.set_num_threads(Environment.ProcessorCount);
        Console.WriteLine($"batch 32, channels-last, {get_num_threads()} threads, median of {rounds - 5} rounds after 5 warm-up rounds");
        Console.WriteLine($"{"channels",8} {"map",6} {"kernel",6} {"stride",6}   {"Conv2d ms",9}   {"ours ms",9}   gradient");
        foreach (var (c, h, k, s) in new[] { (1152L, 2L, 5L, 1L), (1152L, 2L, 3L, 1L), (672L, 4L, 5L, 1L), (672L, 4L, 5L, 2L), (480L, 4L, 5L, 1L), (480L, 4L, 3L, 1L),
            (1152L, 4L, 5L, 1L), (1152L, 4L, 3L, 1L), (672L, 8L, 5L, 1L), (672L, 8L, 5L, 2L), (480L, 8L, 3L, 1L), (240L, 16L, 5L, 1L), (240L, 8L, 5L, 1L), (144L, 16L, 5L, 2L), (144L, 32L, 5L, 2L), (144L, 32L, 3L, 1L) })
        {
            manual_seed(1);
            using var ours = new DepthwiseConv2d(c, k, s);
            using var conv = nn.Conv2d(c, c, k, stride: s, padding: (k - 1) / 2, groups: c, bias: false);
            using (no_grad()) conv.weight!.copy_(ours.Weight);
            using var x = MemoryLayout.Apply(randn(32, c, h, h), MemoryFormat.ChannelsLast);
            double convMs = Time(conv, x, rounds), oursMs = Time(ours, x, rounds);
            string kind = ours.UsesCorrelationGradient(x) ? "correlation" : "libtorch";
            Console.WriteLine($"{c,8} {h + "x" + h,6} {k + "x" + k,6} {s,6}   {convMs,9:F2}   {oursMs,9:F2}   {kind}");
        }
    }

    static double Time(nn.Module<Tensor, Tensor> layer, Tensor input, int rounds)
    {
        var times = new List<double>();
        for (int i = 0; i < rounds; i++)
        {
            using var scope = NewDisposeScope();
            var x = input.detach().requires_grad_(true);
            var clock = Stopwatch.StartNew();
            var y = layer.call(x);
            y.backward([ones_like(y)]);
            times.Add(clock.Elapsed.TotalMilliseconds);
            foreach (var p in layer.parameters()) p.grad = null;
        }
        return times.Skip(5).Order().ElementAt((rounds - 5) / 2);
    }
}
