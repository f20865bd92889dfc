using System.Diagnostics;
using System.Text.Json;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Pipeline;
using HappyWhale.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Benchmarks;

/// <summary>
/// Stopwatch report for `bench_train.sh`: training images/s of <see cref="Trainer.RunPhase"/> on an experiment's
/// prepared images, and the same rows, labels and settings written out for the PyTorch peer (train_peer.py).
/// Run: `HappyWhale.Benchmarks.dll train-throughput EXPERIMENT OUT_JSON [--steps N] [--warmup N] [--set k=v ...]`.
/// </summary>
public static class TrainThroughput
{
    public static void Run(string experimentName, string outJson, IReadOnlyList<string> args)
    {
        int steps = IntArg(args, "--steps", 40), warmup = IntArg(args, "--warmup", 5);
        var sets = args.Select((a, i) => (a, i)).Where(p => p.a == "--set" && p.i + 1 < args.Count).Select(p => args[p.i + 1]).ToList();
        var experiment = ExperimentLoader.Load(Path.Combine(RepoPaths.Root, "experiments"), experimentName,
            [.. sets, "train.validate_each_epoch=false"]);
        var spec = experiment.Spec;
        var options = new PipelineOptions(RepoPaths.Root);
        var pipeline = new ExperimentPipeline(experiment, options);
        pipeline.Run(StageNames.Prepare);
        var prepared = pipeline.Runs.Last(r => r.Stage == StageNames.Prepare && r.Label.Contains($"{spec.Prepare.ImageSize}px"));
        using var images = PreparedSet.Open(prepared.Folder);

        int batch = spec.Train.BatchSize;
        var ids = images.Rows.Select(r => r.IndividualId).Distinct().Order(StringComparer.Ordinal).ToList();
        var classOf = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => (long)p.i, StringComparer.Ordinal);
        // A fixed shuffle of every row, repeated as needed: the timed epoch is exactly `steps` full batches.
        var order = Enumerable.Range(0, images.Count).ToArray();
        new Random(1).Shuffle(order);
        List<int> Rows(int count) => Enumerable.Range(0, count).Select(i => order[i % order.Length]).ToList();
        var timedRows = Rows(steps * batch);
        var warmupRows = Rows(warmup * batch);

        var phase = new PhaseSpec { Epochs = 1, Lr = spec.Train.Phases[0].Lr };
        torch.manual_seed(spec.Train.Seed);
        using var model = ModelFactory.Create(spec.Model, ids.Count);
        model.to(ComputeDevice.Resolve(spec.Train.Device));
        var trainer = new Trainer(spec.Train, NullTrainingObserver.Instance, spec.Model.Groups.EarlyUntil) { MarginWarmup = spec.Model.Head.MarginWarmup };
        LabelledRows Labelled(List<int> rows) => new(rows, rows.Select(r => classOf[images.Rows[r].IndividualId]).ToList(), ids.Count);
        trainer.RunPhase(model, images, Labelled(warmupRows), phase, 0);
        var clock = Stopwatch.StartNew();
        trainer.RunPhase(model, images, Labelled(timedRows), phase, 0);
        double seconds = clock.Elapsed.TotalSeconds;

        // What the peer needs to do the same work on the same rows.
        string layout = Choice.Name(spec.Train.MemoryFormat);
        var shards = Enumerable.Range(0, images.Rows.Max(r => r.Shard) + 1)
            .Select(s => Path.Combine(prepared.Folder, PreparedIndex.ShardFileName(s))).ToList();
        var report = new Dictionary<string, object?>
        {
            ["experiment"] = experimentName,
            ["backbone"] = spec.Model.Backbone,
            ["image_size"] = images.ImageSize,
            ["batch"] = batch,
            ["steps"] = steps,
            ["warmup"] = warmup,
            ["classes"] = ids.Count,
            ["images_per_second"] = steps * batch / seconds,
            ["seconds"] = seconds,
            ["threads"] = get_num_threads(),
            ["device"] = ComputeDevice.Describe(ComputeDevice.Of(model)),
            ["memory_format"] = layout,
            ["peer"] = new Dictionary<string, object?>
            {
                ["shards"] = shards,
                ["rows"] = timedRows.Select(r => new[] { images.Rows[r].Shard, images.Rows[r].Offset, (int)classOf[images.Rows[r].IndividualId] }).ToList(),
                ["warmup_rows"] = warmupRows.Select(r => new[] { images.Rows[r].Shard, images.Rows[r].Offset, (int)classOf[images.Rows[r].IndividualId] }).ToList(),
                ["lr"] = phase.Lr,
                ["weight_decay"] = spec.Train.WeightDecay,
                ["warmup_share"] = spec.Train.Warmup,
                ["min_lr"] = spec.Train.MinLr,
                ["gem_p"] = spec.Model.GemP,
                ["embedding_dim"] = spec.Model.EmbeddingDim,
                ["s"] = spec.Model.Head.S,
                ["m"] = spec.Model.Head.M,
                ["seed"] = spec.Train.Seed,
                ["augment"] = spec.Train.Augment,
            },
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outJson))!);
        File.WriteAllText(outJson, JsonSerializer.Serialize(report, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        Console.WriteLine($"{spec.Model.Backbone} {images.ImageSize}px batch {batch} {layout}: {steps * batch / seconds:F1} img/s ({steps} steps in {seconds:F1} s, {get_num_threads()} threads)");
    }

    /// <summary>One convolution and one matrix product, so that oneDNN and MKL (with their VERBOSE variables) say which ISA they use.</summary>
    public static void BlasProbe()
    {
        using var scope = NewDisposeScope();
        var x = rand(2, 3, 32, 32);
        var w = rand(8, 3, 3, 3);
        nn.functional.conv2d(x, w).sum().item<float>();
        rand(256, 256).mm(rand(256, 256)).sum().item<float>();
    }

    static int IntArg(IReadOnlyList<string> args, string name, int fallback)
    {
        int i = args.ToList().IndexOf(name);
        return i >= 0 && i + 1 < args.Count && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }
}
