using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace HappyWhale.Benchmarks;

/// <summary>
/// One short job: the benchmarks here take seconds per operation, so the Monitoring strategy (no
/// pilot stage, one operation per iteration), one warm-up and three measured iterations.
/// In-process, so the benchmark does not rebuild the project and the process's own peak working
/// set (read by <see cref="PeakMemory"/>) is the benchmark's. Results go to artifacts/bench/.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3)
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true))
            .WithId("short"));
        AddLogger(ConsoleLogger.Default);
        AddColumnProvider(DefaultColumnProviders.Instance);
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(new PeakWorkingSetColumn());
        AddExporter(MarkdownExporter.GitHub, JsonExporter.Full);
        ArtifactsPath = Path.Combine(RepoPaths.Root, "artifacts", "bench", "BenchmarkDotNet.Artifacts");
    }
}
