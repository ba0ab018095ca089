using System.Globalization;

namespace Plateau.Data.Datasets;

/// <summary>
/// ILSVRC2012 as downloaded: <c>train/&lt;wnid&gt;/*.JPEG</c>; <c>val/</c> either as class folders or flat
/// (<c>ILSVRC2012_val_00000001.JPEG</c> ...) labelled by <c>LOC_val_solution.csv</c> (Kaggle) or by
/// <c>ILSVRC2012_validation_ground_truth.txt</c> (devkit; line i = ILSVRC2012_ID of image i) plus a synset list whose
/// line k is the wnid of ILSVRC2012_ID k. Class index = position of the wnid in ordinal sort order (torchvision's).
/// Also accepts the Kaggle tree, where train/ and val/ sit under ILSVRC/Data/CLS-LOC/.
/// </summary>
public static class ImageNetDataset
{
    public const string SolutionCsv = "LOC_val_solution.csv";
    public const string GroundTruthTxt = "ILSVRC2012_validation_ground_truth.txt";
    public const string SynsetListTxt = "ILSVRC2012_synsets.txt";

    /// <summary>The directory holding train/ and/or val/: <paramref name="root"/> or its ILSVRC/Data/CLS-LOC child.</summary>
    public static string? ResolveRoot(string root)
    {
        foreach (var candidate in new[] { root, Path.Combine(root, "ILSVRC", "Data", "CLS-LOC") })
        {
            if (Directory.Exists(Path.Combine(candidate, "train")) || Directory.Exists(Path.Combine(candidate, "val")))
            {
                return candidate;
            }
        }
        return null;
    }

    public static ImageFolderDataset Open(string root, DatasetSplit split, string? validationLabels = null, string? synsetList = null)
    {
        var dir = ResolveRoot(root)
            ?? throw new DatasetFormatException($"{root}: not an ImageNet directory (expected train/<wnid>/*.JPEG and/or val/)");
        var train = Path.Combine(dir, "train");
        var classes = Directory.Exists(train) ? ImageFolderDataset.ClassFolders(train) : null;
        if (split == DatasetSplit.Train)
        {
            if (classes is null)
            {
                throw new DatasetFormatException($"{dir}: train/ is missing");
            }
            return ImageFolderDataset.Open(train, classes, "imagenet");
        }

        var val = Path.Combine(dir, "val");
        if (!Directory.Exists(val))
        {
            throw new DatasetFormatException($"{dir}: val/ is missing");
        }
        if (ImageFolderDataset.ClassFolders(val).Length > 0)
        {
            return ImageFolderDataset.Open(val, classes, "imagenet");
        }

        // Flat val/: labels from a ground-truth file.
        var searched = new[] { dir, val, root, Path.GetDirectoryName(Path.GetFullPath(root)) ?? root };
        var csv = validationLabels is not null && validationLabels.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)
            ? validationLabels
            : validationLabels is null ? Find(searched, SolutionCsv) : null;
        Dictionary<string, string> wnidOf;
        string labelSource;
        if (csv is not null)
        {
            wnidOf = ReadSolutionCsv(csv);
            labelSource = csv;
        }
        else
        {
            var truth = validationLabels ?? Find(searched, GroundTruthTxt)
                ?? throw new DatasetFormatException(
                    $"{val}: flat validation folder but no labels: put {SolutionCsv} (Kaggle) or {GroundTruthTxt} plus {SynsetListTxt} (line k = wnid of ILSVRC2012_ID k) next to it, or pass them explicitly");
            var synsets = synsetList ?? Find([Path.GetDirectoryName(Path.GetFullPath(truth)) ?? dir, .. searched], SynsetListTxt)
                ?? throw new DatasetFormatException($"{truth}: ILSVRC2012_IDs need a synset list ({SynsetListTxt}: line k = wnid of ILSVRC2012_ID k, in the devkit's meta.mat order)");
            wnidOf = ReadGroundTruth(truth, synsets);
            labelSource = truth;
        }

        classes ??= [.. wnidOf.Values.Distinct().Order(StringComparer.Ordinal)];
        var classIndex = classes.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        var files = Directory.EnumerateFiles(val).Where(f => ImageFolderDataset.IsImageFile(f)).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
        {
            throw new DatasetFormatException($"{val}: no image files");
        }
        var labels = new int[files.Count];
        for (var i = 0; i < files.Count; i++)
        {
            var id = Path.GetFileNameWithoutExtension(files[i]);
            if (!wnidOf.TryGetValue(id, out var wnid))
            {
                throw new DatasetFormatException($"{labelSource}: no label for {files[i]}");
            }
            if (!classIndex.TryGetValue(wnid, out labels[i]))
            {
                throw new DatasetFormatException($"{labelSource}: {id} is labelled {wnid}, which is not one of the {classes.Length} training classes");
            }
        }
        return new ImageFolderDataset("imagenet", val, classes, [.. files], labels);
    }

    private static string? Find(IEnumerable<string> directories, string name) =>
        directories.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <summary>Kaggle's LOC_val_solution.csv: "ImageId,PredictionString" with the wnid as first token of the prediction string.</summary>
    public static Dictionary<string, string> ReadSolutionCsv(string path)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        using var reader = new StreamReader(path);
        var header = reader.ReadLine();
        if (header is null || !header.StartsWith("ImageId,", StringComparison.Ordinal))
        {
            throw new DatasetFormatException($"{path}: line 1 must be the header 'ImageId,PredictionString'; got '{header}'");
        }
        var lineNo = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Length == 0)
            {
                continue;
            }
            var comma = line.IndexOf(',', StringComparison.Ordinal);
            var wnid = comma < 0 ? string.Empty : line[(comma + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? string.Empty;
            if (comma <= 0 || !IsWnid(wnid))
            {
                throw new DatasetFormatException($"{path}: line {lineNo}: expected 'ImageId,<wnid> x y x y ...'; got '{Truncate(line)}'");
            }
            result[line[..comma]] = wnid;
        }
        return result;
    }

    /// <summary>Devkit ground truth: line i (1-based) holds the ILSVRC2012_ID of ILSVRC2012_val_{i:D8}.</summary>
    public static Dictionary<string, string> ReadGroundTruth(string truthPath, string synsetPath)
    {
        var synsets = File.ReadAllLines(synsetPath).Select(l => l.Trim()).Where(l => l.Length > 0).Select(l => l.Split(' ', '\t')[0]).ToArray();
        for (var k = 0; k < synsets.Length; k++)
        {
            if (!IsWnid(synsets[k]))
            {
                throw new DatasetFormatException($"{synsetPath}: line {k + 1}: '{Truncate(synsets[k])}' is not a wnid (n + 8 digits)");
            }
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = File.ReadAllLines(truthPath);
        for (var i = 0; i < lines.Length; i++)
        {
            var text = lines[i].Trim();
            if (text.Length == 0)
            {
                continue;
            }
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id < 1 || id > synsets.Length)
            {
                throw new DatasetFormatException($"{truthPath}: line {i + 1}: '{Truncate(text)}' is not an ILSVRC2012_ID in 1..{synsets.Length}");
            }
            result[string.Create(CultureInfo.InvariantCulture, $"ILSVRC2012_val_{i + 1:D8}")] = synsets[id - 1];
        }
        return result;
    }

    private static bool IsWnid(string s) => s.Length == 9 && s[0] == 'n' && s.AsSpan(1).IndexOfAnyExceptInRange('0', '9') < 0;

    private static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "...";
}
