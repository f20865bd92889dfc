using System.Diagnostics;
using System.Text.RegularExpressions;
using HappyWhale.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>
/// Where training and evaluation run: <c>train.device</c> (auto | cpu | cuda | cuda:N) resolved against what
/// this process's libtorch can see. Every stage that touches a model asks here, so a run uses one device.
/// </summary>
public static partial class ComputeDevice
{
    /// <summary>The device a choice names; auto is the first CUDA device when there is one, else the CPU.</summary>
    public static Device Resolve(string choice)
    {
        var text = (choice ?? "").Trim().ToLowerInvariant();
        if (text is "" or "auto") return cuda.is_available() ? new Device(DeviceType.CUDA, 0) : CPU;
        if (text == "cpu") return CPU;
        var match = CudaChoice().Match(text);
        if (!match.Success)
            throw new UserException($"train.device: '{choice}' is not a device; use auto, cpu, cuda or cuda:N (N = 0, 1, ...).");
        if (!cuda.is_available())
            throw new UserException($"train.device is {choice} but no CUDA device is available here (this build uses the CPU libtorch package); " +
                                    "set train.device: auto or cpu, or build with the CUDA package (README: 'On a GPU').");
        int index = match.Groups[1].Success ? int.Parse(match.Groups[1].Value) : 0;
        int count = cuda.device_count();
        if (index >= count)
            throw new UserException($"train.device is {choice} but this machine has {count} CUDA device(s) (cuda:0..cuda:{count - 1}).");
        return new Device(DeviceType.CUDA, index);
    }

    [GeneratedRegex(@"^cuda(?::(\d+))?$")]
    private static partial Regex CudaChoice();

    /// <summary>
    /// Numerics settings of a device before training: on CUDA, TF32 matmuls and convolutions when
    /// <paramref name="precision"/> allows them; on the CPU nothing changes (float32 throughout).
    /// </summary>
    public static void Configure(Device device, TrainPrecision precision)
    {
        if (device.type != DeviceType.CUDA) return;
        bool tf32 = precision == TrainPrecision.Tf32;
        backends.cuda.matmul.allow_tf32 = tf32;
        backends.cudnn.allow_tf32 = tf32;
    }

    /// <summary>"cpu (Intel Xeon ...)" or "cuda:0 (NVIDIA A100 ...)": what the run prints and logs.</summary>
    public static string Describe(Device device) => $"{Name(device)} ({Hardware(device)})";

    public static string Name(Device device) => device.type == DeviceType.CUDA ? $"cuda:{Math.Max(0, device.index)}" : "cpu";

    /// <summary>The hardware's own name: the CPU model from /proc/cpuinfo, the GPU's from nvidia-smi (TorchSharp 0.107 exposes neither).</summary>
    public static string Hardware(Device device)
    {
        if (device.type == DeviceType.CUDA)
            return NvidiaSmiName(Math.Max(0, device.index)) ?? $"CUDA device {Math.Max(0, device.index)}";
        try
        {
            var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            var name = model?.Split(':', 2)[1].Trim();
            return $"{name ?? "unknown CPU"}, {get_num_threads()} threads";
        }
        catch (IOException) { return $"CPU, {get_num_threads()} threads"; }
        catch (UnauthorizedAccessException) { return $"CPU, {get_num_threads()} threads"; }
    }

    static string? NvidiaSmiName(int index)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", $"--query-gpu=name --format=csv,noheader -i {index}")
            { RedirectStandardOutput = true, RedirectStandardError = true });
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEnd().Trim();
            return process.WaitForExit(5000) && process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }

    /// <summary>
    /// A CPU batch on the device. On CUDA it goes through pinned memory and a non-blocking copy, so the copy
    /// overlaps the work already queued; on the CPU the batch is used as it is.
    /// </summary>
    public static Tensor Move(Tensor cpuBatch, Device device) =>
        device.type == DeviceType.CPU ? cpuBatch : cpuBatch.pin_memory().to(device, non_blocking: true);

    /// <summary>The device a module's parameters live on (the CPU for a module without parameters).</summary>
    public static Device Of(nn.Module module)
    {
        foreach (var p in module.parameters()) return p.device;
        return CPU;
    }
}
