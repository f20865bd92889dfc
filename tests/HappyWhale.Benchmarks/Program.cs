using BenchmarkDotNet.Running;

namespace HappyWhale.Benchmarks;

public static class Program
{
    // `dotnet run -c Release --project tests/HappyWhale.Benchmarks -- --filter '*'` runs everything;
    // without arguments BenchmarkDotNet asks which benchmark to run.
    // `trainer-overhead`, `shard-throughput EXPERIMENT` and `train-throughput EXPERIMENT OUT_JSON` run stopwatch reports instead;
    // `depthwise-gradient` times DepthwiseConv2d against libtorch's grouped Conv2d; `optimizer-step SHAPES_JSON` times LeanAdamW and AdamW (bench_optimizer.sh adds PyTorch's);
    // `blas-probe` runs one convolution and one matmul (with ONEDNN_VERBOSE/MKL_VERBOSE set, libtorch names its kernels);
    // `imagenet-mean EXPERIMENT...` compares the two ways of subtracting the ImageNet mean image at other sizes.
    public static void Main(string[] args)
    {
        if (args is ["trainer-overhead", ..]) { TrainerOverhead.Run(); return; }
        if (args is ["shard-throughput", var experiment, ..]) { ShardThroughput.Run(experiment); return; }
        if (args is ["train-throughput", var exp, var outJson, .. var rest]) { TrainThroughput.Run(exp, outJson, rest); return; }
        if (args is ["optimizer-step", var shapes, ..]) { OptimizerStep.Run(shapes); return; }
        if (args is ["depthwise-gradient", ..]) { DepthwiseGradient.Run(); return; }
        if (args is ["blas-probe", ..]) { TrainThroughput.BlasProbe(); return; }
        if (args is ["gpu-smoke", ..]) { Environment.Exit(GpuSmoke.Run()); }
        if (args is ["imagenet-mean", .. var experiments] && experiments.Length > 0) { ImageNetMean.Run(experiments); return; }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, new BenchConfig());
    }
}
