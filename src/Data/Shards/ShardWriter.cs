using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using Plateau.Data.Datasets;
using Plateau.Data.Randomness;

namespace Plateau.Data.Shards;

/// <summary>Packs an image dataset into tar shards of roughly <c>targetShardBytes</c> with a checksummed manifest.</summary>
public static class ShardWriter
{
    public const long DefaultShardBytes = 256L * 1024 * 1024;

    /// <summary>
    /// Writes shard-000000.tar, ... and manifest.json into <paramref name="outputDirectory"/>. Samples are packed in a
    /// seeded shuffled order so each shard mixes classes (sequential readers need no big shuffle buffer); the key of a
    /// sample is its packing position (9 digits). A new shard starts when the next sample would pass the target size.
    /// Unreadable source files are reported and left out (returned in <see cref="PackResult.Skipped"/>).
    /// </summary>
    public static PackResult Pack(IImageDataset source, string outputDirectory, long targetShardBytes = DefaultShardBytes, int seed = 0, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(targetShardBytes, 1024, nameof(targetShardBytes));
        Directory.CreateDirectory(outputDirectory);
        var order = Enumerable.Range(0, source.Count).ToArray();
        new CounterRandom((ulong)seed, 0, 0, CounterRandom.Streams.ShardOrder).Shuffle(order);

        var shards = new List<ShardInfo>();
        var skipped = new List<string>();
        var buffer = new SampleBuffer();
        FileStream? file = null;
        TarWriter? tar = null;
        var shardSamples = 0;
        var key = 0;

        void CloseShard()
        {
            if (tar is null || file is null)
            {
                return;
            }
            tar.Dispose();
            file.Dispose();
            var name = Path.GetFileName(file.Name);
            var length = new FileInfo(file.Name).Length;
            shards.Add(new ShardInfo(name, shardSamples, length, Sha256Of(file.Name)));
            progress?.Invoke($"{name}: {shardSamples} samples, {length / (1024.0 * 1024):F1} MiB");
            tar = null;
            file = null;
            shardSamples = 0;
        }

        foreach (var index in order)
        {
            ImageSample sample;
            try
            {
                sample = source.ReadSample(index, buffer);
            }
            catch (BadSampleException e)
            {
                skipped.Add($"{e.SampleSource}: {e.Reason}");
                continue;
            }
            var (extension, payload) = Payload(sample);
            var entryBytes = 512 + RoundUp(payload.Length) + 1024;
            if (tar is not null && file!.Position + entryBytes > targetShardBytes)
            {
                CloseShard();
            }
            if (tar is null)
            {
                var path = Path.Combine(outputDirectory, string.Create(CultureInfo.InvariantCulture, $"shard-{shards.Count:D6}.tar"));
                file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
                tar = new TarWriter(file, TarEntryFormat.Ustar, leaveOpen: true);
            }
            var name = key.ToString("D9", CultureInfo.InvariantCulture);
            WriteEntry(tar, $"{name}.{extension}", payload);
            WriteEntry(tar, $"{name}.cls", System.Text.Encoding.ASCII.GetBytes(sample.Label.ToString(CultureInfo.InvariantCulture)));
            shardSamples++;
            key++;
        }
        CloseShard();
        if (shards.Count == 0)
        {
            throw new DatasetFormatException($"{source.Location}: no readable samples to pack");
        }
        var manifest = new ShardManifest(ShardManifest.FormatName, ShardManifest.CurrentVersion, [.. source.ClassNames], key, shards);
        manifest.Save(Path.Combine(outputDirectory, ShardManifest.FileName));
        return new PackResult(manifest, skipped);
    }

    private static (string Extension, ReadOnlyMemory<byte> Bytes) Payload(ImageSample sample)
    {
        if (sample.Payload == SamplePayload.RawRgb)
        {
            // Raw CIFAR pixels become lossless PNGs so every shard member is a normal image file.
            var png = Decoding.ImageEncoding.EncodePng(sample.Bytes.Span, sample.RawWidth, sample.RawHeight);
            return ("png", png);
        }
        var span = sample.Bytes.Span;
        var ext = Decoding.ImageDecoder.IsJpeg(span) ? "jpg" : span.Length >= 4 && span[0] == 0x89 && span[1] == (byte)'P' ? "png" : "img";
        return (ext, sample.Bytes);
    }

    private static void WriteEntry(TarWriter tar, string name, ReadOnlyMemory<byte> data)
    {
        var entry = new UstarTarEntry(TarEntryType.RegularFile, name)
        {
            ModificationTime = DateTimeOffset.UnixEpoch,
            Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            DataStream = new MemoryStream(data.ToArray(), writable: false),
        };
        tar.WriteEntry(entry);
    }

    private static long RoundUp(long n) => (n + 511) / 512 * 512;

    public static string Sha256Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
