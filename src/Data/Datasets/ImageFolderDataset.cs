namespace Plateau.Data.Datasets;

/// <summary>
/// Class folders of image files (torchvision ImageFolder): class index = position of the folder name in ordinal
/// sort order; files sorted ordinally within a class. Also the reader behind ImageNet train/ and class-folder val/.
/// </summary>
public sealed class ImageFolderDataset : IImageDataset
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".webp" };

    private readonly string[] _paths;
    private readonly int[] _labels;

    internal ImageFolderDataset(string format, string location, IReadOnlyList<string> classNames, string[] paths, int[] labels)
    {
        Format = format;
        Location = location;
        ClassNames = classNames;
        _paths = paths;
        _labels = labels;
    }

    public string Format { get; }

    public string Location { get; }

    public int Count => _paths.Length;

    public int NumClasses => ClassNames.Count;

    public IReadOnlyList<string> ClassNames { get; }

    public static bool IsImageFile(string path) => Extensions.Contains(Path.GetExtension(path));

    /// <summary>Class folders of <paramref name="root"/> in ordinal order.</summary>
    public static string[] ClassFolders(string root) =>
        [.. Directory.EnumerateDirectories(root).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Opens <paramref name="root"/>. With <paramref name="classNames"/> given (ImageNet val/ uses train/'s wnids), folders
    /// are mapped onto that list and an unknown folder is an error.
    /// </summary>
    public static ImageFolderDataset Open(string root, IReadOnlyList<string>? classNames = null, string format = "imagefolder")
    {
        if (!Directory.Exists(root))
        {
            throw new DatasetFormatException($"{root}: directory not found");
        }
        var folders = ClassFolders(root);
        if (folders.Length == 0)
        {
            throw new DatasetFormatException($"{root}: no class folders (expected {root}/<class>/<image files>)");
        }
        var classes = classNames ?? folders;
        var classIndex = classes.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        var paths = new List<string>();
        var labels = new List<int>();
        var empty = new List<string>();
        foreach (var folder in folders)
        {
            if (!classIndex.TryGetValue(folder, out var label))
            {
                throw new DatasetFormatException($"{Path.Combine(root, folder)}: class folder '{folder}' is not one of the {classes.Count} training classes");
            }
            var files = Directory.EnumerateFiles(Path.Combine(root, folder)).Where(IsImageFile).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
            {
                empty.Add(folder);
            }
            paths.AddRange(files);
            labels.AddRange(Enumerable.Repeat(label, files.Count));
        }
        if (empty.Count > 0)
        {
            throw new DatasetFormatException($"{root}: {empty.Count} class folder(s) hold no image files (.jpg/.jpeg/.png): {string.Join(", ", empty.Take(10))}");
        }
        return new ImageFolderDataset(format, root, classes, [.. paths], [.. labels]);
    }

    public int GetLabel(int index) => _labels[index];

    public string DescribeSample(int index) => _paths[index];

    public ImageSample ReadSample(int index, SampleBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var path = _paths[index];
        return new ImageSample(index, _labels[index], path, SamplePayload.Encoded, FileSampleReader.Read(path, buffer));
    }

    public void Dispose()
    {
    }
}
