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
    public TrackingSpec Tracking { get; init; } = null!;
}

public sealed record DataSpec
{
    public string Source { get; init; } = "";
    public string? Root { get; init; }
    public bool CleanSpecies { get; init; }
    public int MinImagesPerId { get; init; }
    public int Folds { get; init; }
    public int Fold { get; init; }
    public double HoldoutIndividuals { get; init; }
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
}

public sealed record PrepareSpec
{
    public int ImageSize { get; init; }
    public bool Grayscale { get; init; }
    public string Resize { get; init; } = "";
    public int ShardImages { get; init; }
}

public sealed record ModelSpec
{
    public string Backbone { get; init; } = "";
    public string Pooling { get; init; } = "";
    public double GemP { get; init; }
    public int EmbeddingDim { get; init; }
    public string Neck { get; init; } = "";
    public HeadSpec Head { get; init; } = null!;
}

public sealed record HeadSpec
{
    public string Type { get; init; } = "";
    public double S { get; init; }
    public double M { get; init; }
    public bool EasyMargin { get; init; }
}

public sealed record TrainSpec
{
    public IReadOnlyList<PhaseSpec> Phases { get; init; } = [];
    public int BatchSize { get; init; }
    public string Optimizer { get; init; } = "";
    public double WeightDecay { get; init; }
    public double Warmup { get; init; }
    public double MinLr { get; init; }
    public AugmentSpec Augment { get; init; } = null!;
    public int Seed { get; init; }
    public int Threads { get; init; }
    public string Device { get; init; } = "";
}

public sealed record PhaseSpec
{
    public int? ImageSize { get; init; }
    public int Epochs { get; init; }
    public double Lr { get; init; }
}

public sealed record AugmentSpec
{
    public double Hflip { get; init; }
    public double RotateDeg { get; init; }
}

public sealed record EvaluateSpec
{
    public int BatchSize { get; init; }
    public int KnnK { get; init; }
    public double NewIndividualThreshold { get; init; }
    public bool TuneThreshold { get; init; }
    public bool TtaHflip { get; init; }
    public IReadOnlyList<string> Models { get; init; } = [];
}

public sealed record TrackingSpec
{
    public string Experiment { get; init; } = "";
    public string? Uri { get; init; }
}
