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

    /// <summary>Writes <paramref name="snapshot"/> to <paramref name="path"/> (flushed to disk); returns its size and
    /// lower-case hex SHA-256. Safe on any thread: the snapshot is the writer's own copy.</summary>
    public static (long Size, string Sha256) Write(string path, CheckpointSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            SafeTensors.Write(file, snapshot.Tensors, snapshot.Metadata);
            file.Flush(flushToDisk: true);
        }

        using var read = File.OpenRead(path);
        return (read.Length, Convert.ToHexStringLower(SHA256.HashData(read)));
    }

    /// <summary>Verifies size and SHA-256 against the registry entry, then loads model and momentum into
    /// <paramref name="step"/>. Throws <see cref="CheckpointMismatchException"/> when the bytes are not the
    /// registry's, <see cref="InvalidDataException"/> when the file is missing or not a Plateau checkpoint.</summary>
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
                throw new CheckpointMismatchException(path, $"is {read.Length} bytes, the registry says {expectedSize}");
            }

            var sha = Convert.ToHexStringLower(SHA256.HashData(read));
            if (!string.Equals(sha, expectedSha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new CheckpointMismatchException(path, $"has SHA-256 {sha}, the registry says {expectedSha256}");
            }
        }

        using var content = SafeTensors.Load(path);
        if (!content.Metadata.TryGetValue("format", out var format) || format != Format)
        {
            throw new InvalidDataException($"checkpoint {path}: metadata format is '{format}', expected '{Format}'");
        }

        CheckpointSnapshot.Load(content.Tensors, step, $"checkpoint {path}");
        step.Optimizer.Steps = Number(content.Metadata, "optimizer_steps", path);
        return new CheckpointPosition(
            content.Metadata.GetValueOrDefault("job", ""),
            Number(content.Metadata, "generation", path),
            (int)Number(content.Metadata, "epoch", path),
            Number(content.Metadata, "cursor", path),
            Number(content.Metadata, "global_step", path));
    }

    private static long Number(IReadOnlyDictionary<string, string> metadata, string key, string path) =>
        metadata.TryGetValue(key, out var text) && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidDataException($"checkpoint {path}: metadata '{key}' is missing or not a number");
}
