using Plateau.Data.Datasets;
using Plateau.Data.Shards;
using Plateau.Data.Synthetic;

namespace Plateau.Data.Tests;

public class ShardTests
{
    private static (TempDirectory Source, TempDirectory Shards, PackResult Result) Pack(long shardBytes)
    {
        var source = new TempDirectory();
        var shards = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(source.Path, 6, 0, 40, seed: 1, numClasses: 3);
        using var ds = ImageNetDataset.Open(source.Path, DatasetSplit.Train);
        var result = ShardWriter.Pack(ds, shards.Path, shardBytes);
        return (source, shards, result);
    }

    [Fact]
    public void PackThenReadRoundTripsEveryImageAndLabel()
    {
        var (source, shards, result) = Pack(8 * 1024);
        using (source)
        using (shards)
        {
            Assert.True(result.Manifest.Shards.Count > 1, "expected several shards");
            Assert.Equal(18, result.Manifest.TotalSamples);
            using var ds = ImageNetDataset.Open(source.Path, DatasetSplit.Train);
            using var packed = DatasetFactory.Open(new DatasetSpec { Path = shards.Path });
            Assert.Equal("shards", packed.Format);
            Assert.Equal(ds.ClassNames, packed.ClassNames);
            var buffer = new SampleBuffer();
            var original = Enumerable.Range(0, ds.Count).ToDictionary(i => Convert.ToHexString(File.ReadAllBytes(ds.DescribeSample(i))), ds.GetLabel);
            for (var i = 0; i < packed.Count; i++)
            {
                var s = packed.ReadSample(i, buffer);
                Assert.Equal(original[Convert.ToHexString(s.Bytes.Span)], s.Label);
            }
            // WebDataset naming: key.jpg then key.cls.
            using var tar = new System.Formats.Tar.TarReader(File.OpenRead(Path.Combine(shards.Path, "shard-000000.tar")));
            Assert.Equal("000000000.jpg", tar.GetNextEntry()!.Name);
            Assert.Equal("000000000.cls", tar.GetNextEntry()!.Name);
        }
    }

    [Fact]
    public void AFlippedByteInAShardFailsTheChecksumNamingTheShard()
    {
        var (source, shards, result) = Pack(1 << 20);
        using (source)
        using (shards)
        {
            var path = Path.Combine(shards.Path, result.Manifest.Shards[0].File);
            var bytes = File.ReadAllBytes(path);
            bytes[2000] ^= 0x40;
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<DatasetFormatException>(() => ShardDataset.Open(shards.Path));
            Assert.Contains("checksum mismatch", e.Message);
            Assert.Contains("shard-000000.tar", e.Message);
        }
    }

    [Fact]
    public void ACorruptTarHeaderIsRejectedNamingTheShard()
    {
        var (source, shards, result) = Pack(1 << 20);
        using (source)
        using (shards)
        {
            var path = Path.Combine(shards.Path, result.Manifest.Shards[0].File);
            var bytes = File.ReadAllBytes(path);
            bytes[124] = (byte)'9'; // the first member's size field: not an octal digit, and the header checksum no longer matches
            File.WriteAllBytes(path, bytes);

            var e = Assert.Throws<DatasetFormatException>(() => ShardDataset.Open(shards.Path, verifyChecksums: false));

            Assert.StartsWith($"{path}: not a valid tar shard: ", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ATruncatedShardOrBrokenManifestIsRejected()
    {
        var (source, shards, result) = Pack(1 << 20);
        using (source)
        using (shards)
        {
            var path = Path.Combine(shards.Path, result.Manifest.Shards[0].File);
            using (var s = new FileStream(path, FileMode.Open))
            {
                s.SetLength(s.Length - 700);
            }
            Assert.Contains("truncated", Assert.Throws<DatasetFormatException>(() => ShardDataset.Open(shards.Path, verifyChecksums: false)).Message);
            var manifest = Path.Combine(shards.Path, ShardManifest.FileName);
            File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"totalSamples\": 18", "\"totalSamples\": 19", StringComparison.Ordinal));
            Assert.Contains("totalSamples is 19", Assert.Throws<DatasetFormatException>(() => ShardDataset.Open(shards.Path)).Message);
            File.WriteAllText(manifest, "{ not json");
            Assert.Contains("not valid manifest JSON", Assert.Throws<DatasetFormatException>(() => ShardDataset.Open(shards.Path)).Message);
        }
    }
}
