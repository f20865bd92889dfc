using System.Diagnostics;
using System.Text.Json;
using HappyWhale.Modeling;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Modeling;

/// <summary>
/// A fact that needs Debian's /usr/bin/python3 with torch, torchvision and numpy. xunit 2 has no dynamic
/// skip, so the check runs when the attribute is constructed and sets <see cref="FactAttribute.Skip"/>:
/// the test then counts as skipped, with the reason, instead of passing silently.
/// </summary>
public sealed class TorchvisionFactAttribute : FactAttribute
{
    /// <summary>Debian's python3 with python3-torch; HAPPYWHALE_TORCH_PYTHON overrides it (e.g. to check the skip).</summary>
    public static readonly string Python = Environment.GetEnvironmentVariable("HAPPYWHALE_TORCH_PYTHON") is { Length: > 0 } p ? p : "/usr/bin/python3";
    static readonly Lazy<string?> Missing = new(Check);

    public TorchvisionFactAttribute()
    {
        if (Missing.Value is { } reason) Skip = reason;
    }

    static string? Check()
    {
        if (!File.Exists(Python)) return $"{Python} not found: cannot compare with torchvision";
        try
        {
            var (code, _, err) = TorchvisionReference.Run("-c \"import torch, torchvision, numpy\"", TimeSpan.FromSeconds(120));
            return code == 0 ? null : $"{Python} lacks torch/torchvision/numpy: {err.Trim().Split('\n').LastOrDefault()}";
        }
        catch (Exception e) { return $"{Python} could not run: {e.Message}"; }
    }
}

/// <summary>Runs make_reference.py once per test run into a temporary folder.</summary>
public static class TorchvisionReference
{
    static readonly Lazy<string> Folder = new(Make);

    public static string Dir => Folder.Value;

    public static (int Code, string Out, string Err) Run(string arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(TorchvisionFactAttribute.Python, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout)) { p.Kill(entireProcessTree: true); throw new TimeoutException($"python timed out: {arguments}"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    static string Make()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Modeling", "conformance", "make_reference.py");
        if (!File.Exists(script)) throw new FileNotFoundException("make_reference.py not copied to the test output", script);
        var dir = Path.Combine(Path.GetTempPath(), "happywhale-tests", "torchvision-ref-" + Guid.NewGuid().ToString("N"));
        var (code, stdout, stderr) = Run($"\"{script}\" \"{dir}\"", TimeSpan.FromMinutes(5));
        if (code != 0) throw new InvalidOperationException($"make_reference.py failed ({code}): {stderr}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch (IOException) { } };
        return dir;
    }

    /// <summary>Reads a little-endian float32 C-order .npy file.</summary>
    public static Tensor ReadNpy(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int headerLength = bytes[8] | bytes[9] << 8;
        var header = System.Text.Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Contains("'descr': '<f4'", header);
        Assert.Contains("'fortran_order': False", header);
        var shapeText = header[(header.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..];
        shapeText = shapeText[..shapeText.IndexOf(')')];
        var shape = shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
        Buffer.BlockCopy(bytes, 10 + headerLength, data, 0, data.Length * 4);
        return tensor(data).reshape(shape);
    }
}

public class TorchvisionConformanceTests(ITestOutputHelper output)
{
    [TorchvisionFact]
    public void Efficientnet_b0_with_torchvision_weights_reproduces_torchvision_outputs()
    {
        using var _ = NewDisposeScope();
        var dir = TorchvisionReference.Dir;
        using var model = EfficientNet.Create("efficientnet_b0");
        var report = WeightImport.Load(model, Path.Combine(dir, "efficientnet_b0.pt"), strict: true);
        Assert.True(report.IsComplete);
        Assert.Equal(360, report.Loaded.Count);
        model.eval();
        var x = TorchvisionReference.ReadNpy(Path.Combine(dir, "input.npy"));
        var expectedLogits = TorchvisionReference.ReadNpy(Path.Combine(dir, "logits.npy"));
        var expectedFeatures = TorchvisionReference.ReadNpy(Path.Combine(dir, "features.npy"));
        using (no_grad())
        {
            var logits = model.call(x);
            var features = model.ForwardFeatures(x);
            double dLogits = (logits - expectedLogits).abs().max().ToDouble();
            double dFeatures = (features - expectedFeatures).abs().max().ToDouble();
            output.WriteLine($"max |logits - torchvision| = {dLogits:g3}; max |features - torchvision| = {dFeatures:g3}");
            Assert.Equal(expectedLogits.shape, logits.shape);
            Assert.Equal(expectedFeatures.shape, features.shape);
            // The reference calibrates BatchNorm so outputs are O(1); a vanishing output would make the check empty.
            Assert.True(expectedLogits.abs().max().ToDouble() > 0.1 && expectedFeatures.abs().max().ToDouble() > 0.1);
            Assert.True(dLogits < 1e-4, $"logits differ by {dLogits}");
            Assert.True(dFeatures < 1e-4, $"features differ by {dFeatures}");
        }
    }

    [TorchvisionFact]
    public void Torchvision_file_imports_strictly_into_a_reid_model_dropping_the_classifier()
    {
        using var _ = NewDisposeScope();
        var dir = TorchvisionReference.Dir;
        using var model = ModelFactory.Create(WeightImportTests.Spec(), numClasses: 4);
        var report = WeightImport.Load(model, Path.Combine(dir, "efficientnet_b0.pt"), strict: true);
        Assert.True(report.IsComplete);
        Assert.Equal(358, report.Loaded.Count);
        Assert.Equal(["classifier.1.bias", "classifier.1.weight"], report.Dropped);
        model.eval();
        using (no_grad())
        {
            var x = TorchvisionReference.ReadNpy(Path.Combine(dir, "input.npy"));
            var features = ((IFeatureExtractor)model.Backbone).ForwardFeatures(x);
            var expected = TorchvisionReference.ReadNpy(Path.Combine(dir, "features.npy"));
            Assert.True((features - expected).abs().max().ToDouble() < 1e-4);
        }
    }

    [TorchvisionFact]
    public void Resnet_feature_extractors_have_torchvision_state_dict_names_and_shapes()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TorchvisionReference.Dir, "resnet_names.json")));
        foreach (var variant in new[] { "resnet18", "resnet34", "resnet50" })
        {
            var reference = doc.RootElement.GetProperty(variant);
            var expected = reference.GetProperty("state_dict").EnumerateArray()
                .Select(e => (Name: e[0].GetString()!, Shape: string.Join(",", e[1].EnumerateArray().Select(d => d.GetInt64()))))
                .Where(e => !e.Name.StartsWith("fc.", StringComparison.Ordinal))
                .ToList();
            using var backbone = ResNetBackbone.Create(variant);
            var actual = backbone.state_dict().Select(p => (Name: p.Key, Shape: string.Join(",", p.Value.shape))).ToList();
            Assert.Equal(expected.OrderBy(e => e.Name, StringComparer.Ordinal), actual.OrderBy(e => e.Name, StringComparer.Ordinal));
            using var full = ResNetBackbone.Variants[variant].Build();
            Assert.Equal(reference.GetProperty("parameters").GetInt64(), full.parameters().Sum(p => p.numel()));
        }
    }
}
