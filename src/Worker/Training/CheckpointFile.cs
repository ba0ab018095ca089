using System.Globalization;
using System.Security.Cryptography;
using Plateau.Models.Serialization;
using static TorchSharp.torch;

namespace Plateau.Worker.Training;

/// <summary>
/// A training checkpoint as one safetensors file: <c>model.*</c> (the full state dict, BN statistics
/// included), <c>optimizer.momentum.*</c> (SGD momentum by parameter name) and metadata saying where
/// training continues (epoch, cursor, global step) and what wrote it.
/// </summary>
public static class CheckpointFile
{
    public const string Format = "plateau-checkpoint/1";
    private const string ModelPrefix = "model.";
    private const string MomentumPrefix = "optimizer.momentum.";

    /// <summary>Writes the checkpoint to <paramref name="path"/> (flushed to disk); returns its size and lower-case hex SHA-256.</summary>
    public static (long Size, string Sha256) Write(string path, DataParallelStep step, CheckpointPosition position, string modelName)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(position);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        var disposables = new List<Tensor>();
        foreach (var (name, tensor) in StateDict.Ordered(step.Model))
        {
            var host = tensor.detach().cpu();
            disposables.Add(host);
            tensors.Add(new(ModelPrefix + name, host));
        }

        foreach (var (name, tensor) in step.Optimizer.MomentumBuffers())
        {
            var host = tensor.detach().cpu();
            disposables.Add(host);
            tensors.Add(new(MomentumPrefix + name, host));
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = Format,
            ["model"] = modelName,
            ["job"] = position.JobId,
            ["generation"] = Text(position.Generation),
            ["epoch"] = Text(position.Epoch),
            ["cursor"] = Text(position.Cursor),
            ["global_step"] = Text(position.GlobalStep),
            ["optimizer_steps"] = Text(step.Optimizer.Steps),
        };
        try
        {
            using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                SafeTensors.Write(file, tensors, metadata);
                file.Flush(flushToDisk: true);
            }

            using var read = File.OpenRead(path);
            return (read.Length, Convert.ToHexStringLower(SHA256.HashData(read)));
        }
        finally
        {
            foreach (var tensor in disposables)
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>Verifies size and SHA-256 against the registry entry, then loads model and momentum into
    /// <paramref name="step"/>. Throws <see cref="InvalidDataException"/> naming what does not match.</summary>
    public static CheckpointPosition Restore(string path, long expectedSize, string expectedSha256, DataParallelStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"checkpoint {path} does not exist");
        }

        using (var read = File.OpenRead(path))
        {
            if (read.Length != expectedSize)
            {
                throw new InvalidDataException($"checkpoint {path} is {read.Length} bytes, the registry says {expectedSize}");
            }

            var sha = Convert.ToHexStringLower(SHA256.HashData(read));
            if (!string.Equals(sha, expectedSha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException($"checkpoint {path} has SHA-256 {sha}, the registry says {expectedSha256}");
            }
        }

        using var content = SafeTensors.Load(path);
        if (!content.Metadata.TryGetValue("format", out var format) || format != Format)
        {
            throw new InvalidDataException($"checkpoint {path}: metadata format is '{format}', expected '{Format}'");
        }

        var model = content.Tensors.Where(t => t.Key.StartsWith(ModelPrefix, StringComparison.Ordinal))
            .Select(t => new KeyValuePair<string, Tensor>(t.Key[ModelPrefix.Length..], t.Value)).ToList();
        ModelWeights.Copy(step.Model, model, $"checkpoint {path}");
        step.Optimizer.LoadMomentumBuffers(content.Tensors.Where(t => t.Key.StartsWith(MomentumPrefix, StringComparison.Ordinal))
            .Select(t => new KeyValuePair<string, Tensor>(t.Key[MomentumPrefix.Length..], t.Value)));
        step.Optimizer.Steps = Number(content.Metadata, "optimizer_steps", path);
        return new CheckpointPosition(
            content.Metadata.GetValueOrDefault("job", ""),
            Number(content.Metadata, "generation", path),
            (int)Number(content.Metadata, "epoch", path),
            Number(content.Metadata, "cursor", path),
            Number(content.Metadata, "global_step", path));
    }

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static long Number(IReadOnlyDictionary<string, string> metadata, string key, string path) =>
        metadata.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"checkpoint {path}: metadata '{key}' is missing or not a number");
}
