using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace HappyWhale.Training;

/// <summary>One training step's inputs, already on the training device. Owns its tensors.</summary>
public sealed record TrainingBatch(Tensor Images, Tensor Labels, Tensor? SpeciesLabels, int Count) : IDisposable
{
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        SpeciesLabels?.Dispose();
    }
}

/// <summary>
/// Produces an epoch's batches on one background thread, in step order, at most <c>depth</c> ahead of the
/// training loop, so reading, augmenting and copying the next batch overlap the current step. One producer
/// consuming one generator in order draws exactly what an in-line loop would, so results do not change.
/// </summary>
public sealed class BatchPrefetcher : IDisposable
{
    readonly BlockingCollection<TrainingBatch> _ready;
    readonly CancellationTokenSource _stop = new();
    readonly Thread? _worker;
    readonly Func<int, TrainingBatch>? _inline;
    int _next;
    Exception? _failure;

    /// <param name="depth">batches made ahead on the worker; 0 makes each batch on the caller's thread when asked for.</param>
    public BatchPrefetcher(int steps, Func<int, TrainingBatch> produce, int depth = 2)
    {
        _ready = new BlockingCollection<TrainingBatch>(Math.Max(1, depth));
        if (depth == 0)
        {
            _inline = produce;
            return;
        }
        _worker = new Thread(() => Produce(steps, produce)) { IsBackground = true, Name = "happywhale-batches" };
        _worker.Start();
    }

    void Produce(int steps, Func<int, TrainingBatch> produce)
    {
        try
        {
            for (int s = 0; s < steps && !_stop.IsCancellationRequested; s++)
            {
                TrainingBatch batch;
                // The worker has no outer scope: what leaves this one is owned by the batch until the step disposes it.
                using (var scope = NewDisposeScope())
                {
                    batch = produce(s);
                    scope.Detach(batch.Images, batch.Labels);
                    if (batch.SpeciesLabels is not null) scope.Detach(batch.SpeciesLabels);
                }
                try { _ready.Add(batch, _stop.Token); }
                catch (OperationCanceledException) { batch.Dispose(); return; }
            }
        }
        catch (Exception e) { _failure = e; }
        finally { _ready.CompleteAdding(); }
    }

    /// <summary>The next batch in step order; the caller disposes it. A failure of the producer is rethrown here.</summary>
    public TrainingBatch Next()
    {
        if (_inline is not null) return _inline(_next++);
        if (_ready.TryTake(out var batch, Timeout.Infinite)) return batch;
        if (_failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(_failure).Throw();
        throw new InvalidOperationException("the batch producer ended before the epoch's last step");
    }

    public void Dispose()
    {
        _stop.Cancel();
        while (_ready.TryTake(out var left)) left.Dispose();
        _worker?.Join();
        while (_ready.TryTake(out var left)) left.Dispose();
        _ready.Dispose();
        _stop.Dispose();
    }
}
