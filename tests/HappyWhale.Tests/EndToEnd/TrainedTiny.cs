using HappyWhale.Experiments;
using HappyWhale.Pipeline;

namespace HappyWhale.Tests.EndToEnd;

/// <summary>
/// One tiny experiment trained and evaluated once for the predict and final-step tests (they run one after the
/// other in this collection and add their own stages to the same cache). ResNet-18 at 32 px for 6 epochs
/// learns enough on 8 synthetic individuals that evaluate ranks some test photos' individuals first; the
/// threshold is fixed (no tuning) so that a weak model does not answer new_individual first everywhere.
/// </summary>
public sealed class TrainedTiny : IDisposable
{
    public const string Name = "tiny_trained";

    public const string Yaml = """
        synth:
          individuals: 8
          images_per_individual: 4
          test_images: 24
          image_size: 48
        prepare:
          image_size: 32
        model:
          backbone: resnet18
          embedding_dim: 32
          head:
            m: 0.1
        train:
          phases:
            - epochs: 6
              lr: 3.0e-3
          batch_size: 8
        evaluate:
          batch_size: 16
          tune_threshold: false
          new_individual_threshold: 0.6
        """;

    public TestRepository Repo { get; } = new();
    public PipelineOptions Options { get; }
    public PipelineResult Base { get; }

    public TrainedTiny()
    {
        Repo.Write(Name + ".yaml", Yaml);
        Options = new PipelineOptions(Repo.Root);
        Base = Run();
    }

    public ResolvedExperiment Load(params string[] sets) => ExperimentLoader.Load(Repo.Experiments, Name, sets);

    public PipelineResult Run(params string[] sets) => new ExperimentPipeline(Load(sets), Options).Run(StageNames.Evaluate);

    public StageRun BaseStage(string stage) => Base.Last(stage)!;

    public void Dispose() => Repo.Dispose();
}

[CollectionDefinition(Name)]
public sealed class TrainedTinyCollection : ICollectionFixture<TrainedTiny>
{
    public const string Name = "trained tiny experiment";
}
