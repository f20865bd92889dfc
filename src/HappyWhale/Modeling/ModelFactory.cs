using HappyWhale.Experiments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>Builds a <see cref="ReidModel"/> from the experiment's model section.</summary>
public static class ModelFactory
{
    /// <summary>
    /// <paramref name="numSpecies"/> sizes the species head when <c>model.species_head</c> is on; 0 builds the model
    /// without it (evaluation: the head only trains). Pretrained weights are not loaded here (see <see cref="LoadPretrained"/>).
    /// </summary>
    public static ReidModel Create(ModelSpec spec, int numClasses, int numSpecies = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(spec.Head);
        if (numClasses <= 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "must be positive");
        int subCenters = spec.Head.Type == HeadType.Subcenter ? spec.Head.K : 1;
        if (subCenters < 1) throw new ArgumentException($"model.head.k must be at least 1, got {spec.Head.K}", nameof(spec));

        var backbone = Backbones.Create(spec.Backbone);
        try
        {
            long channels = ReidModel.PooledFeaturesOf(backbone, spec.Backbone, spec.ConcatLastTwo);
            nn.Module<Tensor, Tensor> pool = spec.Pooling switch
            {
                PoolingType.Gem => new Gem(spec.GemP, spec.GemLearnable),
                PoolingType.Avg => nn.AdaptiveAvgPool2d(1),
                _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Pooling, "model.pooling"),
            };
            var neck = new EmbeddingNeck(spec.Neck, channels, spec.EmbeddingDim);
            var head = new ArcMarginHead(neck.OutFeatures, numClasses, spec.Head.S, spec.Head.M, spec.Head.EasyMargin, subCenters);
            var speciesHead = spec.SpeciesHead && numSpecies > 0
                ? new ArcMarginHead(neck.OutFeatures, numSpecies, spec.Head.S, spec.Head.M, spec.Head.EasyMargin)
                : null;
            return new ReidModel(spec.Backbone, backbone, pool, neck, head, speciesHead, spec.ConcatLastTwo)
            {
                SpeciesLossWeight = spec.SpeciesLossWeight,
                InputNorm = spec.InputNorm,
            };
        }
        catch
        {
            backbone.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads <c>model.pretrained</c> (relative to <paramref name="repoRoot"/>) into the model's backbone, honouring
    /// <c>model.pretrained_strict</c>. Returns null when no file is configured, else the import report.
    /// <c>imagenet</c> loads <paramref name="imageNetFile"/>, the converted package weights (the pretrained stage's output).
    /// </summary>
    public static WeightImportReport? LoadPretrained(ReidModel model, ModelSpec spec, string? repoRoot, string? imageNetFile = null)
    {
        if (string.IsNullOrWhiteSpace(spec.Pretrained)) return null;
        var path = ImageNetPackage.IsRequestedBy(spec.Pretrained)
            ? imageNetFile ?? throw new ArgumentException("model.pretrained: imagenet needs the converted weights file", nameof(imageNetFile))
            : RepoPath.Resolve(spec.Pretrained, repoRoot);
        return WeightImport.Load(model, path, spec.PretrainedStrict);
    }
}
