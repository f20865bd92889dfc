using System.IO.Compression;
using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace HappyWhale.Tests.Modeling;

/// <summary>
/// The converted ImageNet ResNet-18 against its source: ML.NET's two ONNX files run by ONNX Runtime
/// (preprocessing, then the network) and our CntkResNet with the converted weights and its own input
/// normalisation, on the same real images at 224 px: synthetic fin photos and, when the data set is
/// beside the repository, Omniglot drawings (gray, three equal channels).
/// </summary>
public sealed class CntkResNetConformanceTests(ITestOutputHelper output)
{
    const int Size = CntkResNet.MeanImageSize;
    const double Tolerance = 1e-4;

    static string Models => ImageNetPackage.ModelsFolder;

    /// <summary>Six synthetic fins and, when present, six Omniglot drawings, prepared at 224 px as the prepare stage does: (N, 3, 224, 224) in [0, 1].</summary>
    static (Tensor Batch, int Omniglot) RealImages()
    {
        using var folder = new TempFolder();
        SyntheticGenerator.Generate(new SynthSpec
        {
            Seed = 11, Species = 4, Individuals = 6, ImagesPerIndividual = 1, TestImages = 1, NewIndividuals = 0, ImageSize = 160,
            TypoRate = 0, SizeVariation = 0.45, JpegQualityMin = 70, JpegQualityMax = 95, WatermarkRate = 0.3, WatermarkSize = 0.06,
            OcclusionRate = 0.3, OcclusionSize = 0.25, BoxMissingRate = 0, BoxJitter = 0,
        }, folder.Path);
        var colour = new ImagePreparer(Size, SquareResize.Squash, Grayscale: false);
        var images = new KaggleSource(folder.Path).ReadTrain().Take(6)
            .Select(r => colour.Prepare(folder.Combine(Path.Combine("train_images", r.Image)))).ToList();

        int omniglot = 0;
        if (OmniglotFolder() is { } dir)
        {
            var gray = new ImagePreparer(Size, SquareResize.Squash, Grayscale: true);
            using var zip = ZipFile.OpenRead(Path.Combine(dir, "images_background_small1.zip"));
            foreach (var entry in zip.Entries.Where(e => e.Name.EndsWith(".png", StringComparison.Ordinal)).OrderBy(e => e.FullName, StringComparer.Ordinal).Where((_, i) => i % 97 == 0).Take(6))
            {
                using var s = entry.Open();
                using var m = new MemoryStream();
                s.CopyTo(m);
                m.Position = 0;
                images.Add(gray.Prepare(m));
                omniglot++;
            }
        }
        var hwc = images.SelectMany(b => b).ToArray();
        var batch = tensor(hwc, [images.Count, Size, Size, 3]).permute(0, 3, 1, 2).to_type(ScalarType.Float32).div(255.0f).contiguous();
        return (batch, omniglot);
    }

    static string? OmniglotFolder()
    {
        foreach (var candidate in new[] { Environment.GetEnvironmentVariable("HAPPYWHALE_OMNIGLOT"),
                     Path.Combine(HappyWhale.Tests.Experiments.ExperimentFiles.RepoExperimentsDir, "..", "..", "shared", "datasets", "omniglot"),
                     "/work/shared/datasets/omniglot" })
            if (candidate is not null && File.Exists(Path.Combine(candidate, "images_background_small1.zip"))) return candidate;
        return null;
    }

    /// <summary>ML.NET's pipeline in ONNX Runtime: ResNetPreprocess.onnx on 0-255 RGB, then ResNet18.onnx; (N, 512).</summary>
    static float[][] OnnxFeatures(Tensor batch01)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 2 };
        using var prep = new InferenceSession(ImageNetPackage.PreprocessOnnx(Models), options);
        using var net = new InferenceSession(ImageNetPackage.ResNet18Onnx(Models), options);
        var features = new float[batch01.shape[0]][];
        for (int i = 0; i < features.Length; i++)
        {
            // Both graphs take one image (batch dimension 1).
            var pixels = batch01[i].mul(255.0f).contiguous().data<float>().ToArray();
            using var prepared = prep.Run([NamedOnnxValue.CreateFromTensor(prep.InputMetadata.Keys.Single(), new DenseTensor(pixels, [1, 3, Size, Size]))]);
            var input = prepared.Single().AsTensor<float>().ToArray();
            using var result = net.Run([NamedOnnxValue.CreateFromTensor(net.InputMetadata.Keys.Single(), new DenseTensor(input, [1, 3, Size, Size]))]);
            features[i] = result.Single().AsEnumerable<float>().ToArray();
        }
        return features;
    }

    static float[][] OurFeatures(CntkResNet backbone, Tensor batch01)
    {
        using var scope = NewDisposeScope();
        backbone.eval();
        using var _ = no_grad();
        var pooled = backbone.ForwardFeatures(backbone.NormalizeInput(batch01)).mean([2, 3]);
        return Enumerable.Range(0, (int)pooled.shape[0]).Select(i => pooled[i].data<float>().ToArray()).ToArray();
    }

    /// <summary>Largest |ours - onnx| over an image's 512 features, relative to that image's largest |onnx| feature; the worst image.</summary>
    static double WorstRelativeError(float[][] ours, float[][] onnx) =>
        ours.Zip(onnx, (a, b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max() / b.Max(Math.Abs)).Max();

    static CntkResNet Converted(StridePadding padding)
    {
        using var cntk = CntkResNet.Create(CntkResNet.ImageNet18);
        var state = CntkResNetImport.Convert(ImageNetPackage.ResNet18Onnx(Models), ImageNetPackage.PreprocessOnnx(Models), cntk);
        try
        {
            var model = CntkResNet.Create(CntkResNet.ImageNet18, padding);
            WeightImport.Apply(model, state, "converted", strict: true);
            return model;
        }
        finally { foreach (var t in state.Values) t.Dispose(); }
    }

    [Fact(Timeout = 600_000)]
    public async Task Converted_backbone_gives_the_onnx_models_features_and_the_check_can_fail()
    {
        await Task.Run(() =>
        {
            using var scope = NewDisposeScope();
            var (batch, omniglot) = RealImages();
            var onnx = OnnxFeatures(batch);
            Assert.All(onnx, f => Assert.Equal(512, f.Length));
            Assert.All(onnx, f => Assert.True(f.Max() > 0.1, "the ONNX features are all near zero: the comparison would prove nothing"));

            using var cntk = Converted(StridePadding.Cntk);
            double error = WorstRelativeError(OurFeatures(cntk, batch), onnx);
            using var endHeavy = Converted(StridePadding.EndHeavy);
            double endHeavyError = WorstRelativeError(OurFeatures(endHeavy, batch), onnx);
            using var symmetric = Converted(StridePadding.Symmetric);
            double symmetricError = WorstRelativeError(OurFeatures(symmetric, batch), onnx);
            output.WriteLine($"{batch.shape[0]} images ({omniglot} Omniglot) at {Size} px, worst relative error against ResNet18.onnx: " +
                $"{error:E2} with CNTK's padding, {endHeavyError:E2} with the extra pad after (SAME_UPPER), {symmetricError:E2} with torchvision's symmetric padding");

            Assert.True(error <= Tolerance, $"converted backbone differs from ResNet18.onnx by {error:E3} (relative), more than {Tolerance:E0}");
            // Padding after instead of before moves every strided window by a pixel: the check must see it.
            Assert.True(endHeavyError > 100 * Tolerance, $"with the padding after, the features still agree ({endHeavyError:E3}): the check cannot tell paddings apart");
            // torchvision's symmetric padding only adds zeros the last window never reads, so it computes the same.
            Assert.True(symmetricError <= Tolerance, $"symmetric padding differs by {symmetricError:E3}");
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Conversion_into_a_module_that_pads_differently_stops_with_every_mismatch()
    {
        await Task.Run(() =>
        {
            using var endHeavy = CntkResNet.Create(CntkResNet.ImageNet18, StridePadding.EndHeavy);
            var e = Assert.Throws<UserException>(() =>
                CntkResNetImport.Convert(ImageNetPackage.ResNet18Onnx(Models), ImageNetPackage.PreprocessOnnx(Models), endHeavy));
            Assert.Contains("conv1: pads [3, 3, 2, 2] in the graph, the module computes [2, 2, 3, 3]", e.Message);
            Assert.Contains("maxpool: pads [1, 1, 0, 0] in the graph, the module computes [0, 0, 1, 1]", e.Message);
            foreach (var stage in new[] { 2, 3, 4 }) Assert.Contains($"layer{stage}.0.conv1: pads [1, 1, 0, 0]", e.Message);
            Assert.Contains("(5 problems)", e.Message);
        });
    }
}
