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
                IndexShard(handles[s], paths[s], s, manifest.Classes.Count, entries);
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

    /// <summary>Walks the ustar headers, pairing each key's image member with its .cls member.</summary>
    private static void IndexShard(SafeFileHandle handle, string path, int shard, int numClasses, List<Entry> entries)
    {
        var length = RandomAccess.GetLength(handle);
        var header = new byte[512];
        long offset = 0;
        string? pendingKey = null;
        long pendingOffset = 0;
        var pendingLength = 0;
        string? pendingMember = null;
        while (offset + 512 <= length)
        {
            if (RandomAccess.Read(handle, header, offset) != 512)
            {
                throw new DatasetFormatException($"{path}: truncated tar header at byte {offset}");
            }
            if (header.AsSpan().IndexOfAnyExcept((byte)0) < 0)
            {
                break; // end-of-archive marker
            }
            VerifyHeaderChecksum(header, path, offset);
            var name = ReadString(header.AsSpan(0, 100));
            var prefix = ReadString(header.AsSpan(345, 155));
            if (prefix.Length > 0)
            {
                name = prefix + "/" + name;
            }
            var size = ReadOctal(header.AsSpan(124, 12), path, offset);
            var type = header[156];
            var dataOffset = offset + 512;
            if (dataOffset + size > length)
            {
                throw new DatasetFormatException($"{path}: member '{name}' at byte {offset} runs past the end of the file");
            }
            if (type is (byte)'0' or 0)
            {
                var dot = name.IndexOf('.', name.LastIndexOf('/') + 1);
                var key = dot < 0 ? name : name[..dot];
                var ext = dot < 0 ? string.Empty : name[(dot + 1)..];
                if (ext == "cls")
                {
                    if (pendingKey != key)
                    {
                        throw new DatasetFormatException($"{path}: '{name}' has no image member before it");
                    }
                    var text = new byte[size];
                    RandomAccess.Read(handle, text, dataOffset);
                    if (!int.TryParse(Encoding.ASCII.GetString(text).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var label) || label >= numClasses)
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
                    pendingOffset = dataOffset;
                    pendingLength = checked((int)size);
                }
            }
            offset = dataOffset + ((size + 511) / 512 * 512);
        }
        if (pendingKey is not null)
        {
            throw new DatasetFormatException($"{path}: '{pendingMember}' has no .cls member after it");
        }
    }

    private static void VerifyHeaderChecksum(byte[] header, string path, long offset)
    {
        long sum = 0;
        for (var i = 0; i < 512; i++)
        {
            sum += i is >= 148 and < 156 ? (byte)' ' : header[i];
        }
        var stored = ReadOctal(header.AsSpan(148, 8), path, offset);
        if (stored != sum)
        {
            throw new DatasetFormatException($"{path}: corrupt tar header at byte {offset} (checksum {stored}, computed {sum})");
        }
    }

    private static string ReadString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
    }

    private static long ReadOctal(ReadOnlySpan<byte> field, string path, long offset)
    {
        long value = 0;
        var digits = 0;
        foreach (var b in field)
        {
            if (b is 0 or (byte)' ')
            {
                if (digits > 0)
                {
                    break;
                }
                continue;
            }
            if (b is < (byte)'0' or > (byte)'7')
            {
                throw new DatasetFormatException($"{path}: corrupt tar header at byte {offset} (bad octal field)");
            }
            value = (value * 8) + (b - '0');
            digits++;
        }
        return value;
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
