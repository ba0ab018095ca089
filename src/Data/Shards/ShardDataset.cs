using System.Formats.Tar;
using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Plateau.Data.Datasets;

namespace Plateau.Data.Shards;

/// <summary>
/// Random-access reader over tar shards written by <see cref="ShardWriter"/>. Opening checks every shard's size and
/// (by default) SHA-256 against the manifest, then indexes the tar headers once; a sample read is one positional read
/// of its image member. A mismatch fails the open with a message naming the shard.
/// </summary>
public sealed class ShardDataset : IImageDataset
{
    private readonly SafeFileHandle[] _handles;
    private readonly string[] _shardPaths;
    private readonly Entry[] _entries;

    private ShardDataset(string location, ShardManifest manifest, SafeFileHandle[] handles, string[] shardPaths, Entry[] entries)
    {
        Location = location;
        Manifest = manifest;
        _handles = handles;
        _shardPaths = shardPaths;
        _entries = entries;
    }

    public ShardManifest Manifest { get; }

    public string Format => "shards";

    public string Location { get; }

    public int Count => _entries.Length;

    public int NumClasses => Manifest.Classes.Count;

    public IReadOnlyList<string> ClassNames => Manifest.Classes;

    /// <param name="path">The manifest.json or the directory holding it.</param>
    /// <param name="verifyChecksums">Hash every shard and compare with the manifest (reads all the data once).</param>
    public static ShardDataset Open(string path, bool verifyChecksums = true)
    {
        var manifestPath = Directory.Exists(path) ? Path.Combine(path, ShardManifest.FileName) : path;
        if (!File.Exists(manifestPath))
        {
            throw new DatasetFormatException($"{manifestPath}: shard manifest not found");
        }
        var manifest = ShardManifest.Load(manifestPath);
        var dir = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var paths = manifest.Shards.Select(s => Path.Combine(dir, s.File)).ToArray();
        for (var i = 0; i < paths.Length; i++)
        {
            if (!File.Exists(paths[i]))
            {
                throw new DatasetFormatException($"{paths[i]}: shard listed in {manifestPath} is missing");
            }
            var length = new FileInfo(paths[i]).Length;
            if (length != manifest.Shards[i].Bytes)
            {
                throw new DatasetFormatException($"{paths[i]}: size {length} bytes differs from the manifest's {manifest.Shards[i].Bytes}; the shard is truncated or was replaced");
            }
        }
        if (verifyChecksums)
        {
            var mismatched = new string?[paths.Length];
            Parallel.For(0, paths.Length, i =>
            {
                var actual = ShardWriter.Sha256Of(paths[i]);
                if (actual != manifest.Shards[i].Sha256)
                {
                    mismatched[i] = $"{paths[i]} (SHA-256 {actual}, manifest says {manifest.Shards[i].Sha256})";
                }
            });
            var bad = mismatched.OfType<string>().ToList();
            if (bad.Count > 0)
            {
                throw new DatasetFormatException($"checksum mismatch in {bad.Count} shard(s): {string.Join("; ", bad)}");
            }
        }

        var entries = new List<Entry>((int)manifest.TotalSamples);
        var handles = new SafeFileHandle[paths.Length];
        try
        {
            for (var s = 0; s < paths.Length; s++)
            {
                handles[s] = File.OpenHandle(paths[s], FileMode.Open, FileAccess.Read, FileShare.Read);
                var before = entries.Count;
                IndexShard(paths[s], s, manifest.Classes.Count, entries);
                if (entries.Count - before != manifest.Shards[s].Samples)
                {
                    throw new DatasetFormatException($"{paths[s]}: holds {entries.Count - before} samples, the manifest says {manifest.Shards[s].Samples}");
                }
            }
        }
        catch
        {
            foreach (var h in handles)
            {
                h?.Dispose();
            }
            throw;
        }
        return new ShardDataset(manifestPath, manifest, handles, paths, [.. entries]);
    }

    /// <summary>Walks the tar members (System.Formats.Tar, which also checks each header's checksum), pairing each
    /// key's image member with its .cls member; only the image members' data offsets are kept.</summary>
    private static void IndexShard(string path, int shard, int numClasses, List<Entry> entries)
    {
        using var stream = File.OpenRead(path);
        var length = stream.Length;
        using var reader = new TarReader(stream, leaveOpen: true);
        string? pendingKey = null;
        long pendingOffset = 0;
        var pendingLength = 0;
        string? pendingMember = null;
        while (NextEntry(reader, path) is { } entry)
        {
            var name = entry.Name;
            if (entry.DataOffset + entry.Length > length)
            {
                throw new DatasetFormatException($"{path}: member '{name}' runs past the end of the file");
            }

            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
            {
                continue;
            }

            var dot = name.IndexOf('.', name.LastIndexOf('/') + 1);
            var key = dot < 0 ? name : name[..dot];
            var ext = dot < 0 ? string.Empty : name[(dot + 1)..];
            if (ext == "cls")
            {
                if (pendingKey != key)
                {
                    throw new DatasetFormatException($"{path}: '{name}' has no image member before it");
                }

                using var text = new StreamReader(entry.DataStream!, Encoding.ASCII);
                if (!int.TryParse(text.ReadToEnd().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var label) || label >= numClasses)
                {
                    throw new DatasetFormatException($"{path}: '{name}' does not hold a class index in 0..{numClasses - 1}");
                }

                entries.Add(new Entry(shard, pendingOffset, pendingLength, label, pendingMember!));
                pendingKey = null;
            }
            else
            {
                if (pendingKey is not null)
                {
                    throw new DatasetFormatException($"{path}: '{pendingMember}' has no .cls member after it");
                }

                pendingKey = key;
                pendingMember = name;
                pendingOffset = entry.DataOffset;
                pendingLength = checked((int)entry.Length);
            }
        }

        if (pendingKey is not null)
        {
            throw new DatasetFormatException($"{path}: '{pendingMember}' has no .cls member after it");
        }
    }

    private static TarEntry? NextEntry(TarReader reader, string path)
    {
        try
        {
            return reader.GetNextEntry(copyData: false);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DatasetFormatException($"{path}: not a valid tar shard: {e.Message}", e);
        }
    }

    public int GetLabel(int index) => _entries[index].Label;

    public string DescribeSample(int index) => $"{_shardPaths[_entries[index].Shard]}:{_entries[index].Member}";

    public ImageSample ReadSample(int index, SampleBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var e = _entries[index];
        var memory = buffer.Rent(e.Length);
        try
        {
            var read = 0;
            while (read < e.Length)
            {
                var n = RandomAccess.Read(_handles[e.Shard], memory.Span[read..], e.Offset + read);
                if (n == 0)
                {
                    throw new BadSampleException(DescribeSample(index), "shard ended early", null);
                }
                read += n;
            }
        }
        catch (IOException ex)
        {
            throw new BadSampleException(DescribeSample(index), ex.Message, ex);
        }
        return new ImageSample(index, e.Label, DescribeSample(index), SamplePayload.Encoded, memory);
    }

    public void Dispose()
    {
        foreach (var h in _handles)
        {
            h.Dispose();
        }
    }

    private readonly record struct Entry(int Shard, long Offset, int Length, int Label, string Member);
}
