using Plateau.Data.Datasets;
using Plateau.Data.Synthetic;

namespace Plateau.Data.Tests;

public class ImageNetLayoutTests
{
    [Fact]
    public void FlatValidationIsLabelledFromLocValSolutionCsv()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(dir.Path, 1, 3, 32, seed: 1, numClasses: 3, flatValidation: true);
        using var val = ImageNetDataset.Open(dir.Path, DatasetSplit.Validation);
        Assert.Equal(9, val.Count);
        // Synthetic labels cycle 0,1,2 in validation-image order.
        Assert.Equal([0, 1, 2, 0, 1, 2, 0, 1, 2], Enumerable.Range(0, 9).Select(val.GetLabel));
    }

    [Fact]
    public void DevkitGroundTruthMapsIdsThroughTheSynsetList()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(dir.Path, 1, 1, 32, seed: 1, numClasses: 3, flatValidation: true);
        File.Delete(dir.Combine("LOC_val_solution.csv"));
        // Devkit IDs are not in sorted-wnid order: ID 1 = n00000002, ID 2 = n00000000, ID 3 = n00000001.
        File.WriteAllLines(dir.Combine(ImageNetDataset.SynsetListTxt), ["n00000002", "n00000000", "n00000001"]);
        File.WriteAllLines(dir.Combine(ImageNetDataset.GroundTruthTxt), ["2", "3", "1"]);
        using var val = ImageNetDataset.Open(dir.Path, DatasetSplit.Validation);
        Assert.Equal([0, 1, 2], Enumerable.Range(0, 3).Select(val.GetLabel));
    }

    [Fact]
    public void MalformedGroundTruthFilesAreRejectedNamingTheLine()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(dir.Path, 1, 1, 32, seed: 1, numClasses: 2, flatValidation: true);
        File.WriteAllText(dir.Combine("LOC_val_solution.csv"), "ImageId,PredictionString\nILSVRC2012_val_00000001,cat 1 2 3 4\n");
        var e = Assert.Throws<DatasetFormatException>(() => ImageNetDataset.Open(dir.Path, DatasetSplit.Validation));
        Assert.Contains("line 2", e.Message);
        File.WriteAllText(dir.Combine("LOC_val_solution.csv"), "wrong header\n");
        Assert.Contains("header", Assert.Throws<DatasetFormatException>(() => ImageNetDataset.Open(dir.Path, DatasetSplit.Validation)).Message);
        File.Delete(dir.Combine("LOC_val_solution.csv"));
        Assert.Contains("no labels", Assert.Throws<DatasetFormatException>(() => ImageNetDataset.Open(dir.Path, DatasetSplit.Validation)).Message);
        File.WriteAllLines(dir.Combine(ImageNetDataset.GroundTruthTxt), ["1", "7"]);
        File.WriteAllLines(dir.Combine(ImageNetDataset.SynsetListTxt), ["n00000000", "n00000001"]);
        Assert.Contains("line 2: '7'", Assert.Throws<DatasetFormatException>(() => ImageNetDataset.Open(dir.Path, DatasetSplit.Validation)).Message);
    }

    [Fact]
    public void ClassFolderValidationUsesTheTrainingClassIndices()
    {
        using var dir = new TempDirectory();
        SyntheticDatasetWriter.WriteImageFolder(dir.Path, 1, 1, 32, seed: 1, numClasses: 3);
        Directory.Delete(dir.Combine("val", "n00000000"), recursive: true);
        using var val = ImageNetDataset.Open(dir.Path, DatasetSplit.Validation);
        Assert.Equal(3, val.NumClasses);
        Assert.Equal([1, 2], Enumerable.Range(0, 2).Select(val.GetLabel));
        Directory.CreateDirectory(dir.Combine("val", "n99999999"));
        File.Copy(val.DescribeSample(0), dir.Combine("val", "n99999999", "x.JPEG"));
        Assert.Contains("not one of the 3 training classes", Assert.Throws<DatasetFormatException>(() => ImageNetDataset.Open(dir.Path, DatasetSplit.Validation)).Message);
    }

    [Fact]
    public void AnEmptyClassFolderOrUnknownLayoutIsAClearError()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.Combine("a"));
        Assert.Contains("hold no image files", Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Open(dir.Path)).Message);
        using var empty = new TempDirectory();
        Assert.Contains("unrecognised dataset layout", Assert.Throws<DatasetFormatException>(() => DatasetFactory.Detect(empty.Path)).Message);
    }
}
