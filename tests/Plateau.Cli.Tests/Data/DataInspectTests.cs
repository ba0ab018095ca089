using System.Text.Json;
using Plateau.Cli.Commands.Data;
using Plateau.Cli.Commands.Jobs;
using Plateau.Data.Synthetic;

namespace Plateau.Cli.Tests.Data;

public sealed class DataInspectTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("plateau-inspect-").FullName;

    [Fact]
    public void ACifarSetShowsBothSplitsWithTheirCountsAndItsUnusedClassesInEveryFormat()
    {
        SyntheticDatasetWriter.WriteCifar(_folder, trainCount: 40, testCount: 20, seed: 3, numClasses: 4);

        var inspection = DataCommand.Inspect(_folder, decodeThreads: null);

        Assert.Equal("Cifar10", inspection.Format);
        Assert.Equal([("Train", 40), ("Test", 20)], inspection.Splits.Select(s => (s.Split, s.Samples)));
        // The CIFAR-10 format names 10 classes; the set uses 4, so 6 have no samples and are listed.
        Assert.All(inspection.Splits, s => Assert.Equal((10, 6), (s.Classes, s.ClassesWithoutSamples.Count)));
        var table = Render(inspection, OutputFormat.Table);
        Assert.Contains("format:  Cifar10", table, StringComparison.Ordinal);
        Assert.Matches(@"Train\s+40 samples  10 classes", table);
        Assert.Contains("classes without samples: ", table, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(Render(inspection, OutputFormat.Json));
        Assert.Equal(20, json.RootElement.GetProperty("splits")[1].GetProperty("samples").GetInt32());
        Assert.Contains("samples: 40", Render(inspection, OutputFormat.Yaml), StringComparison.Ordinal);
    }

    [Fact]
    public void DecodingNamesATruncatedImageAndCountsItAsBad()
    {
        SyntheticDatasetWriter.WriteImageFolder(_folder, trainPerClass: 3, valPerClass: 1, size: 48, seed: 5, numClasses: 2);
        var victim = Directory.GetFiles(Path.Combine(_folder, "train"), "*.JPEG", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
        File.WriteAllBytes(victim, File.ReadAllBytes(victim)[..40]);

        var inspection = DataCommand.Inspect(_folder, decodeThreads: 2);

        Assert.Equal(1, inspection.BadSamples);
        var train = inspection.Splits.Single(s => s.Split == "Train");
        Assert.Equal(6, train.Decoded);
        Assert.Contains(Path.GetFileName(victim), Assert.Single(train.Bad!), StringComparison.Ordinal);
        Assert.Contains("1 bad", Render(inspection, OutputFormat.Table), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Render(DatasetInspection inspection, OutputFormat format)
    {
        using var output = new StringWriter();
        DataCommand.Write(inspection, format, output);
        return output.ToString();
    }
}
