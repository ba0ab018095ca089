namespace Plateau.Coordinator.Tests;

/// <summary>The repository the tests run from (found by walking up to Orleans.sln).</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Orleans.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException($"no Orleans.sln above {AppContext.BaseDirectory}");
    }
}
