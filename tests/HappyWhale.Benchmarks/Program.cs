using BenchmarkDotNet.Running;

namespace HappyWhale.Benchmarks;

public static class Program
{
    // `dotnet run -c Release --project tests/HappyWhale.Benchmarks -- --filter '*'` runs everything;
    // without arguments BenchmarkDotNet asks which benchmark to run.
    public static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, new BenchConfig());
}
