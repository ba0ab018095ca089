using System.Globalization;
using Plateau.Models.Serialization;
using static TorchSharp.torch;

namespace Plateau.Worker.Tests.Support;

/// <summary>
/// A checkpoint file as the exact-resume tests compare it: weights, momentum and the position training would
/// continue from. What describes the run rather than the training (which generation wrote it, the spec with its
/// folders) is left out: it differs between a run that was resumed and one that was not.
/// </summary>
internal sealed class CheckpointContents : IDisposable
{
    private static readonly string[] Position = ["epoch", "cursor", "global_step", "optimizer_steps"];

    private readonly SafeTensorsContent _content;

    private CheckpointContents(string path, SafeTensorsContent content)
    {
        Id = Path.GetFileNameWithoutExtension(path);
        _content = content;
    }

    public string Id { get; }

    public static CheckpointContents Load(string path) => new(path, SafeTensors.Load(path));

    /// <summary>The checkpoint with the highest global step among the <c>*.ckpt</c> files under <paramref name="folder"/>.</summary>
    public static CheckpointContents Newest(string folder)
    {
        var files = Directory.GetFiles(folder, "*.ckpt", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        var newest = files.Select(f => (Path: f, Content: SafeTensors.Load(f))).ToList();
        var last = newest.MaxBy(c => long.Parse(c.Content.Metadata["global_step"], CultureInfo.InvariantCulture));
        foreach (var other in newest.Where(c => c.Path != last.Path))
        {
            other.Content.Dispose();
        }

        return new CheckpointContents(last.Path, last.Content);
    }

    /// <summary>Same position, same tensor names, and every tensor equal bit for bit.</summary>
    public void AssertSameTrainingStateAs(CheckpointContents expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        Assert.Equal(Position.Select(k => expected._content.Metadata[k]), Position.Select(k => _content.Metadata[k]));
        Assert.Equal(expected._content.Tensors.Select(t => t.Key), _content.Tensors.Select(t => t.Key));
        var different = expected._content.Tensors.Zip(_content.Tensors)
            .Where(pair => pair.First.Value.dtype != pair.Second.Value.dtype || !pair.First.Value.bytes.SequenceEqual(pair.Second.Value.bytes))
            .Select(pair => $"{pair.First.Key} (largest difference {(pair.First.Value - pair.Second.Value).abs().max().to_type(ScalarType.Float64).item<double>():G3})")
            .ToList();
        Assert.True(different.Count == 0, $"{different.Count} of {_content.Tensors.Count} tensors differ from the expected checkpoint: {string.Join(", ", different.Take(5))}");
    }

    /// <summary>Same position and tensor names; the largest element difference over all tensors, each relative to
    /// the expected tensor's largest magnitude (so a tensor of large values may differ by more).</summary>
    public double MaxRelativeDifferenceFrom(CheckpointContents expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        Assert.Equal(Position.Select(k => expected._content.Metadata[k]), Position.Select(k => _content.Metadata[k]));
        Assert.Equal(expected._content.Tensors.Select(t => t.Key), _content.Tensors.Select(t => t.Key));
        return expected._content.Tensors.Zip(_content.Tensors).Max(pair =>
        {
            using var reference = pair.First.Value.to_type(ScalarType.Float64);
            using var actual = pair.Second.Value.to_type(ScalarType.Float64);
            using var difference = (reference - actual).abs().max();
            using var scale = reference.abs().max();
            return difference.item<double>() / Math.Max(scale.item<double>(), 1e-30);
        });
    }

    public void Dispose() => _content.Dispose();
}
