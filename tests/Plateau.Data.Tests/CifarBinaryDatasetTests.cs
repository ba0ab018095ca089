using Plateau.Data.Datasets;
using Plateau.Data.Synthetic;

namespace Plateau.Data.Tests;

public class CifarBinaryDatasetTests
{
    private static void WriteRecords(string path, params (byte Label, byte Fill)[] records)
    {
        using var stream = File.Create(path);
        foreach (var (label, fill) in records)
        {
            stream.WriteByte(label);
            var pixels = new byte[3072];
            Array.Fill(pixels, fill, 0, 1024);          // red plane
            Array.Fill(pixels, (byte)(fill / 2), 1024, 1024); // green plane
            Array.Fill(pixels, (byte)1, 2048, 1024);    // blue plane
            stream.Write(pixels);
        }
    }

    [Fact]
    public void RecordsAreReadAsLabelsAndInterleavedRgbPixels()
    {
        using var dir = new TempDirectory();
        WriteRecords(dir.Combine("data_batch_1.bin"), (3, 200), (9, 10));
        WriteRecords(dir.Combine("data_batch_2.bin"), (0, 100));
        WriteRecords(dir.Combine("test_batch.bin"), (5, 50));
        using var train = CifarBinaryDataset.Open(dir.Path, DatasetSplit.Train, holdOutFraction: 0);
        Assert.Equal(3, train.Count);
        Assert.Equal([3, 9, 0], Enumerable.Range(0, 3).Select(train.GetLabel));
        var sample = train.ReadSample(1, new SampleBuffer());
        Assert.Equal(SamplePayload.RawRgb, sample.Payload);
        Assert.Equal(new byte[] { 10, 5, 1, 10, 5, 1 }, sample.Bytes.Span[..6].ToArray());
        Assert.EndsWith("data_batch_1.bin#1", train.DescribeSample(1));
        Assert.EndsWith("data_batch_2.bin#0", train.DescribeSample(2));
        using var test = CifarBinaryDataset.Open(dir.Path, DatasetSplit.Validation, holdOutFraction: 0);
        Assert.Equal(5, test.GetLabel(0));
    }

    [Fact]
    public void HoldOutSplitsTheLastTenthOfTrainingAsValidation()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteCifar(dir.Path, trainCount: 500, testCount: 20, seed: 1);
        using var train = CifarBinaryDataset.Open(dir.Path, DatasetSplit.Train);
        using var val = CifarBinaryDataset.Open(dir.Path, DatasetSplit.Validation);
        using var all = CifarBinaryDataset.Open(dir.Path, DatasetSplit.Train, holdOutFraction: 0);
        using var test = CifarBinaryDataset.Open(dir.Path, DatasetSplit.Test);
        Assert.Equal((450, 50, 500, 20), (train.Count, val.Count, all.Count, test.Count));
        var buffer = new SampleBuffer();
        Assert.Equal(all.ReadSample(450, buffer).Bytes.ToArray(), val.ReadSample(0, buffer).Bytes.ToArray());
        Assert.Equal(all.ReadSample(449, buffer).Bytes.ToArray(), train.ReadSample(449, buffer).Bytes.ToArray());
        Assert.Equal("disc", train.ClassNames[0]);
    }

    [Fact]
    public void ATruncatedFileIsRejectedNamingFileAndSize()
    {
        using var dir = new TempDirectory();
        WriteRecords(dir.Combine("data_batch_1.bin"), (1, 1), (2, 2));
        using (var s = new FileStream(dir.Combine("data_batch_1.bin"), FileMode.Open))
        {
            s.SetLength(3073 + 100);
        }
        var e = Assert.Throws<DatasetFormatException>(() => CifarBinaryDataset.Open(dir.Path, DatasetSplit.Train, 0));
        Assert.Contains("data_batch_1.bin", e.Message);
        Assert.Contains("3173 bytes", e.Message);
    }

    [Fact]
    public void AnOutOfRangeLabelIsRejectedNamingTheRecord()
    {
        using var dir = new TempDirectory();
        WriteRecords(dir.Combine("data_batch_1.bin"), (1, 1), (12, 2));
        var e = Assert.Throws<DatasetFormatException>(() => CifarBinaryDataset.Open(dir.Path, DatasetSplit.Train, 0));
        Assert.Contains("record 1 has label 12", e.Message);
    }

    [Fact]
    public void AMissingDirectoryOrFileGivesAClearError()
    {
        using var dir = new TempDirectory();
        Assert.Contains("not a CIFAR-10 binary directory", Assert.Throws<DatasetFormatException>(() => CifarBinaryDataset.Open(dir.Path, DatasetSplit.Train)).Message);
        WriteRecords(dir.Combine("data_batch_1.bin"), (1, 1));
        Assert.Contains("missing test_batch.bin", Assert.Throws<DatasetFormatException>(() => CifarBinaryDataset.Open(dir.Path, DatasetSplit.Test)).Message);
    }

    [Fact]
    public void FactoryDetectsCifarAndOpensTheRequestedSplit()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteCifar(dir.Path, trainCount: 100, testCount: 10, seed: 1);
        Assert.Equal(DatasetFormat.Cifar10, DatasetFactory.Detect(dir.Path));
        using var ds = DatasetFactory.Open(new DatasetSpec { Path = dir.Path, Split = DatasetSplit.Validation });
        Assert.Equal(10, ds.Count);
        Assert.Equal("cifar10-binary", ds.Format);
    }
}
