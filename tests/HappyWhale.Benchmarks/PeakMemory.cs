using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace HappyWhale.Benchmarks;

/// <summary>
/// The process's peak resident set (VmHWM in /proc/self/status). MemoryDiagnoser sees only managed
/// allocations; libtorch's buffers (the similarity blocks) are native and only show up here.
/// </summary>
public static class PeakMemory
{
    /// <summary>Peak working set recorded per benchmark (by its method name) in [GlobalCleanup].</summary>
    public static readonly Dictionary<string, long> Recorded = new();

    /// <returns>Peak resident bytes, or -1 where /proc is not available.</returns>
    public static long ReadPeakBytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            foreach (var line in File.ReadLines(status))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                var kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }
        // Elsewhere: the managed view of the peak working set (includes native memory on Windows).
        using var p = System.Diagnostics.Process.GetCurrentProcess();
        p.Refresh();
        return p.PeakWorkingSet64 > 0 ? p.PeakWorkingSet64 : -1;
    }

    public static string Format(long bytes) =>
        bytes < 0 ? "n/a" : (bytes / (1024.0 * 1024.0)).ToString("F0", CultureInfo.InvariantCulture) + " MB";
}

/// <summary>Summary column showing <see cref="PeakMemory.Recorded"/> (in-process toolchain only).</summary>
public sealed class PeakWorkingSetColumn : IColumn
{
    public string Id => nameof(PeakWorkingSetColumn);
    public string ColumnName => "Peak WS";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Metric;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Size;
    public string Legend => "Peak resident set of the benchmark process (VmHWM), managed + native";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        PeakMemory.Format(PeakMemory.Recorded.GetValueOrDefault(benchmarkCase.Descriptor.WorkloadMethod.Name, -1));
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
}
