namespace HappyWhale.Experiments;

// The resolved experiment as typed records. Property names map to the YAML keys in
// experiments/defaults.yaml by snake_case (ImageSize <-> image_size); defaults.yaml is the
// single source of defaults, so these records carry no default values of their own.

public sealed record ExperimentSpec
{
    public string Name { get; init; } = "";
    public string Description { get; init; } = "";
    public DataSpec Data { get; init; } = null!;
    public SynthSpec Synth { get; init; } = null!;
    public PrepareSpec Prepare { get; init; } = null!;
    public ModelSpec Model { get; init; } = null!;
    public TrainSpec Train { get; init; } = null!;
    public EvaluateSpec Evaluate { get; init; } = null!;
    public PseudoLabelSpec PseudoLabel { get; init; } = null!;
    public TrackingSpec Tracking { get; init; } = null!;
    public CacheSpec Cache { get; init; } = null!;
    public ExecutorType Executor { get; init; }
    public SlurmSpec Slurm { get; init; } = null!;
}

public sealed record DataSpec
{
    public DataSource Source { get; init; }
    public string? Root { get; init; }
    public IReadOnlyList<string> Roots { get; init; } = [];
    public double QueryShare { get; init; }
    public double NewIndividualShare { get; init; }
    public BadImagePolicy OnBadImage { get; init; }
    public long MaxImagePixels { get; init; }
    public long MaxZipEntryBytes { get; init; }
    public bool CleanSpecies { get; init; }
    public IReadOnlyList<string> Species { get; init; } = [];
    public int MinImagesPerId { get; init; }
    public int MaxIndividuals { get; init; }
    public bool DuplicateSingletons { get; init; }
    public int Folds { get; init; }
    public int Fold { get; init; }
    public double HoldoutIndividuals { get; init; }
    public IReadOnlyList<string> HoldoutSpecies { get; init; } = [];
    /// <summary>data.validation_fold; true here too so that a spec built in code keeps the fold unless it says otherwise.</summary>
    public bool ValidationFold { get; init; } = true;
    public int Seed { get; init; }
}

public sealed record SynthSpec
{
    public int Seed { get; init; }
    public int Species { get; init; }
    public int Individuals { get; init; }
    public int ImagesPerIndividual { get; init; }
    public int TestImages { get; init; }
    public double NewIndividuals { get; init; }
    public int ImageSize { get; init; }
    public double TypoRate { get; init; }
    public double SizeVariation { get; init; }
    public int JpegQualityMin { get; init; }
    public int JpegQualityMax { get; init; }
    public double WatermarkRate { get; init; }
    public double WatermarkSize { get; init; }
    public double OcclusionRate { get; init; }
    public double OcclusionSize { get; init; }
    public double BoxMissingRate { get; init; }
    public double BoxJitter { get; init; }
}

public sealed record PrepareSpec
{
    public int ImageSize { get; init; }
    public bool Grayscale { get; init; }
    public SquareResize Resize { get; init; }
    public Resample Resample { get; init; }
    public CropMode Crop { get; init; }
    public IReadOnlyList<string> Boxes { get; init; } = [];
    public double BoxMargin { get; init; }
    public int ShardImages { get; init; }
}

public sealed record ModelSpec
{
    public string Backbone { get; init; } = "";
    public PoolingType Pooling { get; init; }
    public double GemP { get; init; }
    public int EmbeddingDim { get; init; }
    public NeckType Neck { get; init; }
    public string? Pretrained { get; init; }
    public bool PretrainedStrict { get; init; }
    public bool GemLearnable { get; init; }
    public bool ConcatLastTwo { get; init; }
    public InputNorm InputNorm { get; init; }
    public bool SpeciesHead { get; init; }
    public double SpeciesLossWeight { get; init; }
    public HeadSpec Head { get; init; } = null!;
    public GroupsSpec Groups { get; init; } = null!;
}

public sealed record GroupsSpec
{
    public int EarlyUntil { get; init; }
}

public sealed record HeadSpec
{
    public HeadType Type { get; init; }
    public double S { get; init; }
    public double M { get; init; }
    public bool EasyMargin { get; init; }
    public int K { get; init; }
    public bool DynamicMargin { get; init; }
    public double MarginA { get; init; }
    public double MarginB { get; init; }
    public double MarginC { get; init; }
    public double MarginWarmup { get; init; }
}

public sealed record TrainSpec
{
    public IReadOnlyList<PhaseSpec> Phases { get; init; } = [];
    public int BatchSize { get; init; }
    public int Accumulate { get; init; }
    public OptimizerType Optimizer { get; init; }
    public double Momentum { get; init; }
    public double WeightDecay { get; init; }
    public ScheduleType Schedule { get; init; }
    public double Warmup { get; init; }
    public double MinLr { get; init; }
    public RampSpec Ramp { get; init; } = null!;
    public GroupValues<double> LrGroups { get; init; } = null!;
    public GroupValues<int> Unfreeze { get; init; } = null!;
    public double LabelSmoothing { get; init; }
    public double Ema { get; init; }
    public AugmentSpec Augment { get; init; } = null!;
    public int Seed { get; init; }
    public int Threads { get; init; }
    public string Device { get; init; } = "";
    public TrainPrecision Precision { get; init; }
    public MemoryFormat MemoryFormat { get; init; }
    public bool ValidateEachEpoch { get; init; }
    public bool FinalFit { get; init; }
}

/// <summary>train.precision: what TorchSharp 0.107 offers on CUDA, which has no autocast or gradient scaler.</summary>
public enum TrainPrecision
{
    /// <summary>Plain float32 everywhere.</summary>
    Fp32,
    /// <summary>Float32 tensors with TF32 tensor-core matmuls and convolutions on CUDA (Ampere and newer); no effect on the CPU.</summary>
    Tf32,
}

public sealed record PhaseSpec
{
    public int? ImageSize { get; init; }
    public int Epochs { get; init; }
    public double Lr { get; init; }
    public int? BatchSize { get; init; }
}

public sealed record RampSpec
{
    public double Start { get; init; }
    public double Epochs { get; init; }
    public double SustainEpochs { get; init; }
    public double Decay { get; init; }
}

/// <summary>One value per parameter group (see ReidModel.ParameterGroups).</summary>
public sealed record GroupValues<T>
{
    public T Stem { get; init; } = default!;
    public T Early { get; init; } = default!;
    public T Late { get; init; } = default!;
    public T Neck { get; init; } = default!;
    public T Head { get; init; } = default!;

    public T For(string group) => group switch
    {
        "stem" => Stem, "early" => Early, "late" => Late, "neck" => Neck, "head" => Head,
        _ => throw new ArgumentException($"unknown parameter group {group}"),
    };
}

public sealed record AugmentSpec
{
    public double Hflip { get; init; }
    public double RotateDeg { get; init; }
    public double Scale { get; init; }
    public double Shift { get; init; }
    public double ShearDeg { get; init; }
    public AffineFill Fill { get; init; }
    public double Cutout { get; init; }
    public double Brightness { get; init; }
    public double Contrast { get; init; }
    public double Saturation { get; init; }
    public double Hue { get; init; }
    public double GrayP { get; init; }
}

public sealed record EvaluateSpec
{
    public int BatchSize { get; init; }
    public int KnnK { get; init; }
    public double NewIndividualThreshold { get; init; }
    public bool TuneThreshold { get; init; }
    public bool TtaHflip { get; init; }
    public double TtaShift { get; init; }
    public EmbeddingFeature Feature { get; init; }
    public IReadOnlyList<string> Models { get; init; } = [];
    public double BlendLogits { get; init; }
    public EpisodesSpec Episodes { get; init; } = null!;
}

/// <summary>evaluate.episodes: N-way K-shot episodes on individuals never trained on (see Evaluation/EpisodeSampler).</summary>
public sealed record EpisodesSpec
{
    public int Episodes { get; init; }
    public int Ways { get; init; }
    public int Shots { get; init; }
    public int Seed { get; init; }
}

/// <summary>train.augment.fill: what an affine warp shows where it samples outside the image.</summary>
public enum AffineFill
{
    /// <summary>The image mirrored at its border.</summary>
    Reflect,
    /// <summary>Plain white (1.0): paper behind drawings.</summary>
    White,
    /// <summary>Plain black (0.0).</summary>
    Black,
}

public sealed record PseudoLabelSpec
{
    public int Rounds { get; init; }
    public double MinSimilarity { get; init; }
    public double MaxShare { get; init; }
}

public sealed record TrackingSpec
{
    public string Experiment { get; init; } = "";
    public string? Uri { get; init; }
    public bool LogModel { get; init; }
}
