using System.Text;

namespace Plateau.Cli.Commands.Health;

/// <summary>A process's arguments, environment and working directory, read from /proc (Linux: the container's process 1).</summary>
public sealed record MainProcess(IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string> Environment, string? WorkingDirectory)
{
    public static MainProcess Read(int pid)
    {
        var folder = $"/proc/{pid}";
        var arguments = Split(File.ReadAllBytes($"{folder}/cmdline"));
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in Split(File.ReadAllBytes($"{folder}/environ")))
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                environment[entry[..equals]] = entry[(equals + 1)..];
            }
        }

        string? directory;
        try
        {
            directory = new DirectoryInfo($"{folder}/cwd").ResolveLinkTarget(returnFinalTarget: true)?.FullName;
        }
        catch (IOException)
        {
            directory = null;
        }
        catch (UnauthorizedAccessException)
        {
            directory = null;
        }

        return new MainProcess(arguments, environment, directory);
    }

    private static List<string> Split(byte[] nulSeparated) =>
        [.. Encoding.UTF8.GetString(nulSeparated).Split('\0', StringSplitOptions.RemoveEmptyEntries)];
}
