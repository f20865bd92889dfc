using System.Globalization;
using System.Text.Json;
using HappyWhale.Data;
using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Pipeline;
using TorchSharp;
using static TorchSharp.torch;
using HappyWhale.Training;

namespace HappyWhale.Benchmarks;

/// <summary>
/// Which mean serves the ImageNet weights better at a size other than 224 px: the 224 x 224 mean image
/// area-resampled to the input size, or its three per-channel means. Measured without training, so only
/// the input convention differs: the converted backbone embeds an experiment's prepared images (global
/// average pool of the last feature map, L2-normalised), and validation MAP@5 scores them the way the
/// evaluate stage does (validation queries against the training split, tuned new_individual threshold).
/// Run: `HappyWhale.Benchmarks.dll imagenet-mean EXPERIMENT...` (prepares through the repository's cache).
/// </summary>
public static class ImageNetMean
{
    public static void Run(IReadOnlyList<string> experiments)
    {
        torch.set_num_threads(Environment.ProcessorCount);
        var models = ImageNetPackage.ModelsFolder;
        var report = new List<Dictionary<string, object>>();
        foreach (var name in experiments)
        {
            var experiment = ExperimentLoader.Load(Path.Combine(RepoPaths.Root, "experiments"), name);
            var spec = experiment.Spec;
            var prepared = new ExperimentPipeline(experiment, new PipelineOptions(RepoPaths.Root)).Run(StageNames.Prepare).Last(StageNames.Prepare)!;
            using var set = PreparedSet.Open(prepared.Folder);
            var split = RowSplit.Build(set.Rows, spec.Data);
            var ids = set.Rows.ToDictionary(r => r.Row, r => r.IndividualId);
            var galleryIds = split.TrainRows.Select(r => ids[r]).ToList();
            var queryIds = split.ValidationRows.Select(r => ids[r]).ToList();
            var filler = SampleSubmission.FixedPredictions(galleryIds).Where(id => id != NewIndividual.Id).ToList();
            foreach (var mode in new[] { MeanAtOtherSizes.Resampled, MeanAtOtherSizes.PerChannel })
            {
                using var backbone = CntkResNet.Create(CntkResNet.ImageNet18, mean: mode);
                var state = CntkResNetImport.Convert(ImageNetPackage.ResNet18Onnx(models), ImageNetPackage.PreprocessOnnx(models), backbone);
                foreach (var t in state.Values) t.Dispose();
                var pooled = new PooledBackbone(backbone);
                using var gallery = EmbeddingExtractor.Extract(pooled, set, split.TrainRows, spec.Evaluate.BatchSize);
                using var queries = EmbeddingExtractor.Extract(pooled, set, split.ValidationRows, spec.Evaluate.BatchSize);
                var score = ValidationScorer.Score(gallery, galleryIds, queries, queryIds, spec.Evaluate, filler);
                var top1 = score.Predictions.Zip(score.Labels).Count(p => p.First.Ids[0] == p.Second) / (double)Math.Max(1, score.Labels.Count);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{experiment.Name} ({set.ImageSize} px, {queryIds.Count} validation queries): mean {mode}: val MAP@5 {score.Map5:F4} (threshold {score.Threshold:F2}), top-1 {top1:F4}"));
                report.Add(new()
                {
                    ["experiment"] = experiment.Name, ["image_size"] = set.ImageSize, ["mean"] = mode.ToString(),
                    ["val_map5"] = Math.Round(score.Map5, 4), ["threshold"] = Math.Round(score.Threshold, 2), ["top1"] = Math.Round(top1, 4),
                    ["queries"] = queryIds.Count, ["gallery"] = galleryIds.Count,
                });
            }
        }
        var file = RepoPaths.Bench("imagenet-mean", "report.json");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {file}");
    }

    /// <summary>The backbone's pooled features as an embedding model, normalising its input the backbone's way.</summary>
    sealed class PooledBackbone : nn.Module<Tensor, Tensor>, IInputNormalization
    {
        private readonly CntkResNet backbone;

        public PooledBackbone(CntkResNet backbone) : base("pooled")
        {
            this.backbone = backbone;
            RegisterComponents();
        }

        public Tensor NormalizeInput(Tensor batch01) => backbone.NormalizeInput(batch01);

        public override Tensor forward(Tensor x)
        {
            using var features = backbone.ForwardFeatures(x);
            return features.mean([2, 3]);
        }
    }
}
