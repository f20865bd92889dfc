using System.Diagnostics;
using System.Text.Json;
using HappyWhale.Experiments;
using HappyWhale.Modeling;
using HappyWhale.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Benchmarks;

/// <summary>
/// Stopwatch report: milliseconds per AdamW step on EfficientNet-B0's parameters (with the quickstart's
/// head) for TorchSharp's AdamW and <see cref="LeanAdamW"/>; writes the parameter shapes to SHAPES_JSON so
/// optimizer_peer.py times PyTorch's AdamW on the same tensors. Run: tests/HappyWhale.Benchmarks/bench_optimizer.sh.
/// </summary>
public static class OptimizerStep
{
    public static void Run(string shapesJson, int steps = 200, int rounds = 5)
    {
        torch.set_num_threads(Environment.ProcessorCount);
        var spec = ExperimentLoader.Load(Path.Combine(RepoPaths.Root, "experiments"), "quickstart",
            ["model.backbone=efficientnet_b0", "model.pretrained=null"]).Spec;
        using var model = ModelFactory.Create(spec.Model, 64);
        var parameters = model.parameters().ToList();
        File.WriteAllText(shapesJson, JsonSerializer.Serialize(parameters.Select(p => p.shape).ToList()));
        foreach (var p in parameters) p.grad = randn_like(p).mul_(Scalars.Of(1e-3));
        Console.WriteLine($"EfficientNet-B0 + head: {parameters.Count} tensors, {parameters.Sum(p => p.numel()) / 1e6:F2} M values, {steps} steps a round, median of {rounds} rounds");
        var results = new Dictionary<string, List<double>> { ["TorchSharp AdamW"] = [], ["LeanAdamW"] = [] };
        for (int r = 0; r < rounds; r++)
        {
            using (var plain = optim.AdamW(new[] { new AdamW.ParamGroup(parameters, 1e-3, 0.9, 0.999, 1e-8, 1e-4) }, 1e-3, weight_decay: 1e-4))
                results["TorchSharp AdamW"].Add(Time(plain, steps));
            using (var lean = new LeanAdamW(new[] { new AdamW.ParamGroup(parameters, 1e-3, 0.9, 0.999, 1e-8, 1e-4) }, 1e-3, 1e-4))
                results["LeanAdamW"].Add(Time(lean, steps));
        }
        foreach (var (name, ms) in results)
            Console.WriteLine($"{name,-18} {ms.Order().ElementAt(ms.Count / 2):F2} ms/step (rounds {string.Join(", ", ms.Select(x => x.ToString("F2")))})");
    }

    static double Time(OptimizerHelper optimizer, int steps)
    {
        for (int s = 0; s < 10; s++) optimizer.step();
        var clock = Stopwatch.StartNew();
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            optimizer.step();
        }
        return clock.Elapsed.TotalMilliseconds / steps;
    }
}
