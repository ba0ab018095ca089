using System.Globalization;
using Plateau.Models.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// A copy of everything a checkpoint holds, taken on the training thread between two steps: the model's
/// state dict and the SGD momentum copied to host memory, and the metadata saying where training continues.
/// Training goes on at once; <see cref="CheckpointFile.Write"/> turns the copy into a file on another thread.
/// </summary>
public sealed class CheckpointSnapshot : IDisposable
{
    private const string ModelPrefix = "model.";
    private const string MomentumPrefix = "optimizer.momentum.";

    private readonly List<KeyValuePair<string, Tensor>> _tensors;

    private CheckpointSnapshot(List<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata, CheckpointPosition position)
    {
        _tensors = tensors;
        Metadata = metadata;
        Position = position;
    }

    public CheckpointPosition Position { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors in file order: <c>model.*</c> then <c>optimizer.momentum.*</c>.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors => _tensors;

    /// <summary>Copies the state of <paramref name="step"/>; <paramref name="description"/>, when given, adds what the
    /// file says about its job (<see cref="CheckpointDescription"/>).</summary>
    public static CheckpointSnapshot Take(DataParallelStep step, CheckpointPosition position, string modelName, CheckpointDescription? description = null)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(position);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var (name, tensor) in StateDict.Ordered(step.Model))
            {
                tensors.Add(new(ModelPrefix + name, HostCopy(tensor)));
            }

            foreach (var (name, tensor) in step.Optimizer.MomentumBuffers())
            {
                tensors.Add(new(MomentumPrefix + name, HostCopy(tensor)));
            }
        }
        catch
        {
            tensors.ForEach(t => t.Value.Dispose());
            throw;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = CheckpointFile.Format,
            ["model"] = modelName,
            ["job"] = position.JobId,
            ["generation"] = Text(position.Generation),
            ["epoch"] = Text(position.Epoch),
            ["cursor"] = Text(position.Cursor),
            ["global_step"] = Text(position.GlobalStep),
            ["optimizer_steps"] = Text(step.Optimizer.Steps),
        };
        foreach (var (key, value) in description?.ToMetadata() ?? [])
        {
            metadata.Add(key, value);
        }

        return new CheckpointSnapshot(tensors, metadata, position);
    }

    public void Dispose()
    {
        foreach (var (_, tensor) in _tensors)
        {
            tensor.Dispose();
        }

        _tensors.Clear();
    }

    /// <summary>Loads checkpoint-layout tensors (<c>model.*</c>, <c>optimizer.momentum.*</c>) into <paramref name="step"/>:
    /// a file's, or a snapshot kept in memory.</summary>
    public static void Load(IEnumerable<KeyValuePair<string, Tensor>> tensors, DataParallelStep step, string origin)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(step);
        var all = tensors.ToList();
        var model = all.Where(t => IsModel(t.Key)).Select(t => new KeyValuePair<string, Tensor>(ModelKey(t.Key), t.Value)).ToList();
        ModelWeights.Copy(step.Model, model, origin);
        step.Optimizer.LoadMomentumBuffers(all.Where(t => IsMomentum(t.Key)).Select(t => new KeyValuePair<string, Tensor>(MomentumKey(t.Key), t.Value)));
    }

    internal static string ModelKey(string key) => key[ModelPrefix.Length..];

    internal static bool IsModel(string key) => key.StartsWith(ModelPrefix, StringComparison.Ordinal);

    internal static bool IsMomentum(string key) => key.StartsWith(MomentumPrefix, StringComparison.Ordinal);

    internal static string MomentumKey(string key) => key[MomentumPrefix.Length..];

    /// <summary>On CPU, <c>cpu()</c> returns the same storage, which the next step overwrites: copy explicitly.</summary>
    private static Tensor HostCopy(Tensor tensor)
    {
        using var detached = tensor.detach();
        return detached.device_type == DeviceType.CPU ? detached.clone() : detached.cpu();
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
