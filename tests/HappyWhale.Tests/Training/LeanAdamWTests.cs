using HappyWhale.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Training;

/// <summary>LeanAdamW: TorchSharp's AdamW, bit for bit, and its checkpoint format.</summary>
public class LeanAdamWTests
{
    static List<Parameter> Parameters(int seed)
    {
        manual_seed(seed);
        return [new Parameter(randn(7, 5)), new Parameter(randn(3)), new Parameter(randn(2, 3, 3, 3))];
    }

    static void Steps(OptimizerHelper optimizer, IReadOnlyList<Parameter> parameters, int steps, int seed, double[] rates)
    {
        var generator = new Generator((ulong)seed);
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            foreach (var p in parameters) p.grad = randn(p.shape, generator: generator);
            int i = 0;
            foreach (var group in optimizer.ParamGroups) group.LearningRate = rates[s % rates.Length] * (1 + i++);
            optimizer.step();
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-2)]
    public void Gives_the_same_bits_as_TorchSharps_AdamW_over_groups_and_a_changing_rate(double weightDecay)
    {
        var a = Parameters(1);
        var b = Parameters(1);
        double[] rates = [1e-3, 3e-3, 5e-4];
        using var plain = optim.AdamW([new AdamW.ParamGroup(a.Take(2), 1e-3, 0.9, 0.999, 1e-8, weightDecay), new AdamW.ParamGroup(a.Skip(2), 1e-3, 0.9, 0.999, 1e-8, weightDecay)], 1e-3, weight_decay: weightDecay);
        using var lean = new LeanAdamW([new AdamW.ParamGroup(b.Take(2), 1e-3, 0.9, 0.999, 1e-8, weightDecay), new AdamW.ParamGroup(b.Skip(2), 1e-3, 0.9, 0.999, 1e-8, weightDecay)], 1e-3, weightDecay);
        Steps(plain, a, 12, 4, rates);
        Steps(lean, b, 12, 4, rates);
        for (int i = 0; i < a.Count; i++)
            Assert.True(a[i].allclose(b[i], rtol: 0, atol: 0), $"parameter {i} differs");
    }

    [Fact]
    public void Skips_a_parameter_without_gradient_and_resumes_from_a_saved_state()
    {
        var a = Parameters(2);
        var b = Parameters(2);
        using var plain = optim.AdamW(a, 1e-3, weight_decay: 1e-2);
        using var lean = new LeanAdamW([new AdamW.ParamGroup(b, 1e-3, 0.9, 0.999, 1e-8, 1e-2)], 1e-3, 1e-2);
        Steps(plain, a, 3, 7, [1e-3]);
        Steps(lean, b, 3, 7, [1e-3]);

        // A parameter whose gradient is undefined (a frozen group) is left alone by both.
        a[1].grad = null;
        b[1].grad = null;
        using (var scope = NewDisposeScope()) { a[0].grad = ones_like(a[0]); a[2].grad = ones_like(a[2]); plain.step(); }
        using (var scope = NewDisposeScope()) { b[0].grad = ones_like(b[0]); b[2].grad = ones_like(b[2]); lean.step(); }

        var path = Path.Combine(Path.GetTempPath(), $"lean-adamw-{Guid.NewGuid():N}.bin");
        try
        {
            lean.save_state_dict(path);
            var c = b.Select(p => new Parameter(p.detach().clone())).ToList();
            using var resumed = new LeanAdamW([new AdamW.ParamGroup(c, 1e-3, 0.9, 0.999, 1e-8, 1e-2)], 1e-3, 1e-2);
            resumed.load_state_dict(path);
            Steps(plain, a, 4, 9, [2e-3]);
            Steps(lean, b, 4, 9, [2e-3]);
            Steps(resumed, c, 4, 9, [2e-3]);
            for (int i = 0; i < a.Count; i++)
            {
                Assert.True(a[i].allclose(b[i], rtol: 0, atol: 0), $"parameter {i} differs from AdamW");
                Assert.True(b[i].allclose(c[i], rtol: 0, atol: 0), $"parameter {i} differs after resuming");
            }
        }
        finally { File.Delete(path); }
    }
}
