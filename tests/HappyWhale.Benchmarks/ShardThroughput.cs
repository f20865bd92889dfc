using System.Diagnostics;
using System.Globalization;
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
/// Stopwatch report for the prepare benchmark: how fast an experiment's prepared shards can be read the
/// way the trainer reads them (shuffled rows, one batch at a time, bytes -> float NCHW -> ImageNet
/// normalisation), against how fast Trainer.RunPhase consumes images of the same set with the
/// experiment's own model and batch size, measured in the same process.
/// Run after `happywhale prepare --exp NAME`: `HappyWhale.Benchmarks.dll shard-throughput NAME`.
/// </summary>
public static class ShardThroughput
{
    public static void Run(string experimentName, int trainImages = 192, int warmupImages = 64)
    {
        torch.set_num_threads(Environment.ProcessorCount);
        var experiment = ExperimentLoader.Load(Path.Combine(RepoPaths.Root, "experiments"), experimentName,
            ["train.validate_each_epoch=false"]);
        var spec = experiment.Spec;
        var prepared = new ExperimentPipeline(experiment, new PipelineOptions(RepoPaths.Root)).Run(StageNames.Prepare).Last(StageNames.Prepare)!;
        if (prepared.Outcome != CacheOutcome.Hit)
            Console.WriteLine("note: the prepare entry was computed by this run; its pages are warm");
        using var set = PreparedSet.Open(prepared.Folder);
        int batch = spec.Train.BatchSize;
        var order = Enumerable.Range(0, set.Count).ToArray();
        new Random(1).Shuffle(order);

        bool cold = DropPageCache();
        var firstPass = ReadPass(set, order, batch);
        var secondPass = ReadPass(set, order, batch);
        var train = TrainRate(spec, set, order, trainImages, warmupImages);

        double slowestRead = Math.Min(firstPass, secondPass);
        var report = new Dictionary<string, object>
        {
            ["experiment"] = experiment.Name,
            ["prepared_folder"] = Path.GetRelativePath(RepoPaths.Root, prepared.Folder),
            ["images"] = set.Count,
            ["image_size"] = set.ImageSize,
            ["shard_bytes"] = Directory.GetFiles(prepared.Folder, "shard-*.npy").Sum(f => new FileInfo(f).Length),
            ["batch_size"] = batch,
            ["threads"] = Environment.ProcessorCount,
            ["read_first_pass_img_per_s"] = Math.Round(firstPass, 1),
            ["read_first_pass_page_cache"] = cold ? "dropped before the pass (cold)" : "not dropped (needs root): warm",
            ["read_second_pass_img_per_s"] = Math.Round(secondPass, 1),
            ["train_model"] = spec.Model.Backbone,
            ["train_img_per_s"] = Math.Round(train, 2),
            ["train_images_timed"] = trainImages,
            ["read_over_train"] = Math.Round(slowestRead / train, 1),
        };
        Console.WriteLine($"{set.Count} images at {set.ImageSize} px in {prepared.Folder}");
        Console.WriteLine($"reading shards, pass 1 ({report["read_first_pass_page_cache"]}): {firstPass:F0} img/s");
        Console.WriteLine($"reading shards, pass 2: {secondPass:F0} img/s");
        Console.WriteLine($"training {spec.Model.Backbone} at {set.ImageSize} px, batch {batch}: {train:F2} img/s");
        Console.WriteLine($"slower read pass / training = {slowestRead / train:F1}x");
        var output = RepoPaths.Bench("prepare", "shard_throughput.json");
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        File.WriteAllText(output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"written {Path.GetRelativePath(RepoPaths.Root, output)}");
    }

    /// <summary>Images per second for one pass over <paramref name="order"/>, batch by batch, as the trainer reads them.</summary>
    static double ReadPass(PreparedSet set, int[] order, int batch)
    {
        var clock = Stopwatch.StartNew();
        double checksum = 0;
        for (int start = 0; start < order.Length; start += batch)
        {
            using var scope = NewDisposeScope();
            var rows = order.AsSpan(start, Math.Min(batch, order.Length - start)).ToArray();
            var x = ImageNetNormalization.Apply(set.ReadBatch(rows));
            // One element read back so the work cannot be skipped.
            checksum += x[0, 0, 0, 0].item<float>();
        }
        double rate = order.Length / clock.Elapsed.TotalSeconds;
        return double.IsNaN(checksum) ? double.NaN : rate;
    }

    /// <summary>Images per second of Trainer.RunPhase (augmentation, forward, ArcFace loss, backward, step) after a warm-up.</summary>
    static double TrainRate(ExperimentSpec spec, PreparedSet set, int[] order, int images, int warmup)
    {
        var ids = set.Rows.Select(r => r.IndividualId).Distinct().Order(StringComparer.Ordinal).ToList();
        var classOf = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => (long)p.i);
        LabelledRows Take(int skip, int count)
        {
            var rows = order.Skip(skip).Take(count).ToList();
            return new LabelledRows(rows, rows.Select(r => classOf[set.Rows[r].IndividualId]).ToList(), ids.Count);
        }

        torch.manual_seed(1);
        using var model = ModelFactory.Create(spec.Model, ids.Count);
        var trainer = new Trainer(spec.Train, NullTrainingObserver.Instance, spec.Model.Groups.EarlyUntil);
        var phase = new PhaseSpec { Epochs = 1, Lr = 1e-3 };
        trainer.RunPhase(model, set, Take(0, warmup), phase, 0);
        var clock = Stopwatch.StartNew();
        trainer.RunPhase(model, set, Take(warmup, images), phase, 0);
        return images / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Asks the kernel to drop clean page-cache pages so the first pass reads from disk; false when not allowed.</summary>
    static bool DropPageCache()
    {
        try
        {
            using (var sync = Process.Start("sync")) sync?.WaitForExit();
            File.WriteAllText("/proc/sys/vm/drop_caches", "3");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
