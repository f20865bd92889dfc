using System.Diagnostics;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Modeling;
using HappyWhale.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Benchmarks;

/// <summary>
/// `tests/gpu/smoke.sh`'s check: EfficientNet-B0 at 128 px trains for 50 steps on a CUDA device through
/// <see cref="Trainer.RunPhase"/>; every parameter and every batch must be on that device. Prints img/s.
/// Exit codes: 0 passed, 3 skipped (no CUDA device visible to libtorch), 1 failed.
/// </summary>
public static class GpuSmoke
{
    /// <summary>Counts the batches the trainer makes; one left on the CPU would stop the forward pass with a device mismatch.</summary>
    sealed class DeviceCheck(IImageBatches inner) : IImageBatches
    {
        public int Count => inner.Count;
        public int ImageSize => inner.ImageSize;
        public int Batches;
        public Tensor ReadBatch(IReadOnlyList<int> rows)
        {
            Interlocked.Increment(ref Batches);
            return inner.ReadBatch(rows);
        }
    }

    sealed class OnDevice(ReidModel model, Device device) : ITrainingObserver
    {
        public readonly List<string> Problems = [];
        public void EpochStarted(int phase, int epoch, int epochs, int images) { }
        public void StepFinished(int images, double loss) { }
        public void EpochFinished(EpochStats stats)
        {
            foreach (var (name, p) in model.named_parameters())
                if (p.device_type != device.type || p.device_index != device.index) Problems.Add($"parameter {name} is on {p.device}");
        }
    }

    public static int Run(int steps = 50, int size = 128, int batch = 32)
    {
        if (!cuda.is_available())
        {
            Console.WriteLine("skipped: no CUDA device (libtorch sees none; is the CUDA build in use? dotnet build -p:TorchBackend=cuda)");
            return 3;
        }
        var device = ComputeDevice.Resolve("cuda");
        ComputeDevice.Configure(device, TrainPrecision.Tf32);
        Console.WriteLine($"device: {ComputeDevice.Describe(device)}");
        var spec = ExperimentLoader.Load(Path.Combine(RepoPaths.Root, "experiments"), "quickstart",
            ["train.validate_each_epoch=false", $"train.batch_size={batch}", "train.device=cuda"]).Spec;
        int classes = 100;
        using var data = rand(new long[] { steps * batch, 3, size, size }, generator: new Generator(1, CPU));
        var images = new DeviceCheck(new InMemoryImages(data));
        torch.manual_seed(1);
        using var model = ModelFactory.Create(spec.Model, classes);
        model.to(device);
        var check = new OnDevice(model, device);
        var labels = Enumerable.Range(0, steps * batch).Select(i => (long)(i % classes)).ToList();
        var rows = Enumerable.Range(0, steps * batch).ToList();
        var trainer = new Trainer(spec.Train, check, spec.Model.Groups.EarlyUntil);
        var clock = Stopwatch.StartNew();
        var history = trainer.RunPhase(model, images, new LabelledRows(rows, labels, classes), new PhaseSpec { Epochs = 1, Lr = 1e-3 }, 0);
        cuda.synchronize(device);
        double seconds = clock.Elapsed.TotalSeconds;

        // The embedding of a batch must come back from the device the model is on.
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            model.eval();
            var e = model.forward(ComputeDevice.Move(images.ReadBatch([0, 1]), device));
            if (e.device_type != DeviceType.CUDA) check.Problems.Add($"embeddings came back on {e.device}");
        }
        Console.WriteLine($"B0 {size}px batch {batch}: {steps} steps, {steps * batch / seconds:F1} img/s including warm-up, loss {history[^1].Loss:F3}, {images.Batches} batches made");
        foreach (var p in check.Problems) Console.WriteLine("FAILED: " + p);
        return check.Problems.Count == 0 && double.IsFinite(history[^1].Loss) ? 0 : 1;
    }
}
