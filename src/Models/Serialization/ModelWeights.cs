using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace Plateau.Models.Serialization;

/// <summary>
/// Moves a model's state dict (PyTorch keys and order) to and from safetensors, as strictly as PyTorch's
/// <c>load_state_dict(strict=True)</c>: a file with a missing, extra or wrongly shaped tensor is refused, naming
/// the tensors, before anything is copied; only a missing BatchNorm <c>num_batches_tracked</c> is filled (with 0).
/// </summary>
public static class ModelWeights
{
    private const string BatchCounter = "num_batches_tracked";

    /// <summary>Writes the model's parameters and buffers to a safetensors file.</summary>
    public static void Save(nn.Module model, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Save(path, StateDict.Ordered(model), metadata);

    /// <summary>Writes the model's parameters and buffers as safetensors to <paramref name="stream"/>.</summary>
    public static void Write(nn.Module model, Stream stream, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Write(stream, StateDict.Ordered(model), metadata);

    /// <summary>Loads a safetensors file into <paramref name="model"/>; returns the file's metadata.</summary>
    public static IReadOnlyDictionary<string, string> Load(nn.Module model, string path)
    {
        using var content = SafeTensors.Load(path);
        Copy(model, content.Tensors, path);
        return content.Metadata;
    }

    /// <summary>Loads safetensors from <paramref name="stream"/> into <paramref name="model"/>; returns the metadata.</summary>
    public static IReadOnlyDictionary<string, string> Read(nn.Module model, Stream stream)
    {
        using var content = SafeTensors.Read(stream);
        Copy(model, content.Tensors, "stream");
        return content.Metadata;
    }

    /// <summary>
    /// Copies <paramref name="source"/> into the model's own tensors (converting dtype like PyTorch's
    /// <c>load_state_dict</c>) after checking that keys and shapes match exactly.
    /// </summary>
    public static void Copy(nn.Module model, IReadOnlyList<KeyValuePair<string, Tensor>> source, string origin = "state dict")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        var target = StateDict.Ordered(model);
        var sourceByName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in source)
        {
            sourceByName[name] = tensor;
        }
        var targetNames = target.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);

        // PyTorch's BatchNorm fills a missing num_batches_tracked instead of refusing the state dict (files from
        // before the counter existed, or saved without it), so load_state_dict(strict=True) accepts them: so does this.
        var missing = target.Where(t => !sourceByName.ContainsKey(t.Key) && !IsBatchCounter(t.Key)).Select(t => t.Key).ToList();
        var unexpected = source.Where(s => !targetNames.Contains(s.Key)).Select(s => s.Key).ToList();
        var wrongShape = new List<string>();
        var report = new StringBuilder();
        foreach (var (name, tensor) in target)
        {
            if (sourceByName.TryGetValue(name, out var candidate) && !candidate.shape.SequenceEqual(tensor.shape))
            {
                wrongShape.Add(name);
                report.Append(CultureInfo.InvariantCulture,
                    $" Tensor '{name}' has shape {Shape(candidate)} in the {origin} but {Shape(tensor)} in the model.");
            }
        }
        if (missing.Count > 0 || unexpected.Count > 0 || wrongShape.Count > 0)
        {
            var message = new StringBuilder($"The {origin} does not match the model; nothing was loaded.");
            if (missing.Count > 0)
            {
                message.Append(CultureInfo.InvariantCulture, $" Missing tensors: {string.Join(", ", missing)}.");
            }
            if (unexpected.Count > 0)
            {
                message.Append(CultureInfo.InvariantCulture, $" Unexpected tensors: {string.Join(", ", unexpected)}.");
            }
            message.Append(report);
            throw new StateDictMismatchException(message.ToString(), missing, unexpected, wrongShape);
        }

        using var noGrad = no_grad();
        foreach (var (name, tensor) in target)
        {
            if (sourceByName.TryGetValue(name, out var value))
            {
                tensor.copy_(value);
            }
            else
            {
                // A missing batch counter starts at 0, as PyTorch 1.13 fills it.
                tensor.zero_();
            }
        }
    }

    private static bool IsBatchCounter(string name) => name == BatchCounter || name.EndsWith("." + BatchCounter, StringComparison.Ordinal);

    private static string Shape(Tensor tensor) => $"[{string.Join(", ", tensor.shape)}]";
}
