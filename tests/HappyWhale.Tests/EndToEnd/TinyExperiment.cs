namespace HappyWhale.Tests.EndToEnd;

/// <summary>An experiment small enough to train and evaluate in seconds on 2 cores.</summary>
static class TinyExperiment
{
    public const string Yaml = """
        synth:
          individuals: 8
          images_per_individual: 3
          test_images: 12
          image_size: 48
        prepare:
          image_size: 32
        model:
          embedding_dim: 16
        train:
          phases:
            - epochs: 1
              lr: 1.0e-3
          batch_size: 8
        evaluate:
          batch_size: 16
        """;
}
