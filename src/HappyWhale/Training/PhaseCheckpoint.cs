using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Training;

/// <summary>
/// The end-of-epoch checkpoint of one training phase: model and optimizer state plus the epochs
/// done and their history. Everything else a resumed run needs (batch order, augmentation draws,
/// dropout) is re-seeded per epoch from the seed, and the schedule is a function of the step,
/// so model + optimizer + epoch is the whole state. Written to a sibling folder and swapped in
/// by rename, so a kill at any moment leaves either the previous or the new checkpoint.
/// </summary>
public sealed class PhaseCheckpoint(string folder)
{
    const string Current = "checkpoint", Incoming = "checkpoint.incoming", Outgoing = "checkpoint.outgoing";
    const string ModelFile = "model.bin", OptimizerFile = "optimizer.bin", StateFile = "state.json", AverageFile = "ema.bin";

    public string Folder { get; } = folder;

    public sealed record State(int EpochsDone, List<EpochStats> History);

    /// <param name="average">the weight average (train.ema), saved beside the model when there is one.</param>
    public void Save(nn.Module model, OptimizerHelper optimizer, State state, nn.Module? average = null)
    {
        Directory.CreateDirectory(Folder);
        string incoming = Path.Combine(Folder, Incoming), current = Path.Combine(Folder, Current), outgoing = Path.Combine(Folder, Outgoing);
        if (Directory.Exists(incoming)) Directory.Delete(incoming, true);
        Directory.CreateDirectory(incoming);
        model.save(Path.Combine(incoming, ModelFile));
        optimizer.save_state_dict(Path.Combine(incoming, OptimizerFile));
        average?.save(Path.Combine(incoming, AverageFile));
        File.WriteAllText(Path.Combine(incoming, StateFile), JsonSerializer.Serialize(state));
        if (Directory.Exists(outgoing)) Directory.Delete(outgoing, true);
        if (Directory.Exists(current)) Directory.Move(current, outgoing);
        Directory.Move(incoming, current);
        if (Directory.Exists(outgoing)) Directory.Delete(outgoing, true);
    }

    /// <summary>Restores the newest complete checkpoint into the model and optimizer; null when there is none.</summary>
    /// <param name="restoreAverage">loads the saved weight average (given its file) when the run keeps one.</param>
    public State? TryRestore(nn.Module model, OptimizerHelper optimizer, Action<string>? restoreAverage = null)
    {
        // A kill between the two renames in Save leaves the complete checkpoint under "outgoing".
        string current = Path.Combine(Folder, Current), outgoing = Path.Combine(Folder, Outgoing);
        string? source = File.Exists(Path.Combine(current, StateFile)) ? current
            : File.Exists(Path.Combine(outgoing, StateFile)) ? outgoing : null;
        if (source is null) return null;
        var state = JsonSerializer.Deserialize<State>(File.ReadAllText(Path.Combine(source, StateFile)));
        if (state is null) return null;
        model.load(Path.Combine(source, ModelFile));
        optimizer.load_state_dict(Path.Combine(source, OptimizerFile));
        if (restoreAverage is not null)
        {
            string average = Path.Combine(source, AverageFile);
            if (!File.Exists(average)) throw new InvalidOperationException($"the checkpoint in {source} has no {AverageFile}, which train.ema needs to resume");
            restoreAverage(average);
        }
        return state;
    }
}
