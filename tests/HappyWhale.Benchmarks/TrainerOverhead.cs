using System.Diagnostics;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Benchmarks;

/// <summary>
/// Stopwatch report: images/s of a full epoch through Trainer.RunPhase against a bare TorchSharp
/// loop (forward, ArcFace loss, backward, AdamW step, one dispose scope per step) on the same model,
/// batch, image size and data. Run: `dotnet tests/HappyWhale.Benchmarks/bin/Release/net10.0/HappyWhale.Benchmarks.dll trainer-overhead`.
/// </summary>
public static class TrainerOverhead
{
    public static void Run(int imageSize = 64, int images = 512, int batch = 32, int epochs = 3, int repeats = 3)
    {
        torch.set_num_threads(Environment.ProcessorCount);
        var spec = ExperimentLoader.Load(Path.Combine(RepoPaths.Root, "experiments"), "quickstart",
            ["model.backbone=efficientnet_b0", "model.pretrained=null", "train.augment.hflip=0", "train.validate_each_epoch=false", $"train.batch_size={batch}"]).Spec;
        int classes = 64;
        using var data = rand(new long[] { images, 3, imageSize, imageSize }, generator: new Generator(1, CPU));
        var labels = Enumerable.Range(0, images).Select(i => (long)(i % classes)).ToList();
        var source = new InMemoryImages(data);

        var bare = new List<double>();
        var trainer = new List<double>();
        for (int r = 0; r < repeats + 1; r++)   // the first round warms up both
        {
            double b = BareLoop(spec.Model, source, labels, classes, batch, epochs);
            double t = TrainerLoop(spec, source, labels, classes, epochs);
            if (r == 0) continue;
            bare.Add(b);
            trainer.Add(t);
        }
        Console.WriteLine($"EfficientNet-B0 {imageSize}px, batch {batch}, {images} images x {epochs} epochs, {Environment.ProcessorCount} threads, {repeats} rounds after a warm-up");
        Console.WriteLine($"bare TorchSharp loop: {bare.Average():F1} img/s (rounds {string.Join(", ", bare.Select(x => x.ToString("F1")))})");
        Console.WriteLine($"Trainer.RunPhase:     {trainer.Average():F1} img/s (rounds {string.Join(", ", trainer.Select(x => x.ToString("F1")))})");
        Console.WriteLine($"trainer / bare = {trainer.Average() / bare.Average():F3}");
    }

    static double BareLoop(ModelSpec modelSpec, IImageBatches source, IReadOnlyList<long> labels, int classes, int batch, int epochs)
    {
        torch.manual_seed(1);
        using var model = ModelFactory.Create(modelSpec, classes);
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-3, weight_decay: 1e-4);
        model.train();
        var clock = Stopwatch.StartNew();
        long seen = 0;
        for (int e = 0; e < epochs; e++)
            for (int start = 0; start + batch <= source.Count; start += batch)
            {
                using var scope = NewDisposeScope();
                var rows = Enumerable.Range(start, batch).ToArray();
                var y = tensor(rows.Select(i => labels[i]).ToArray());
                var x = ImageNetNormalization.Apply(source.ReadBatch(rows));
                var loss = nn.functional.cross_entropy(model.Logits(model.forward(x), y), y);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                seen += batch;
            }
        return seen / clock.Elapsed.TotalSeconds;
    }

    static double TrainerLoop(ExperimentSpec spec, IImageBatches source, IReadOnlyList<long> labels, int classes, int epochs)
    {
        torch.manual_seed(1);
        using var model = ModelFactory.Create(spec.Model, classes);
        var clock = Stopwatch.StartNew();
        var history = new Trainer(spec.Train, NullTrainingObserver.Instance, spec.Model.Groups.EarlyUntil).RunPhase(model, source,
            new LabelledRows(Enumerable.Range(0, source.Count).ToList(), labels, classes), new PhaseSpec { Epochs = epochs, Lr = 1e-3 }, 0);
        return history.Sum(h => h.ImagesPerSecond * h.Seconds) / clock.Elapsed.TotalSeconds;
    }
}
