using System.Diagnostics;
using System.Globalization;

namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>
/// One <c>plateau local</c> process, its output read line by line as it comes (each line with the
/// time it arrived), and its children found through /proc, so a test can act on them mid-run.
/// </summary>
internal sealed class LocalRun : IDisposable
{
    private readonly Process _process;
    private readonly List<(TimeSpan At, string Text)> _lines = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Task _stdout;
    private readonly Task _stderr;

    private LocalRun(Process process, string folder)
    {
        _process = process;
        Folder = folder;
        _stdout = Task.Run(() => ReadAsync(process.StandardOutput));
        _stderr = Task.Run(() => ReadAsync(process.StandardError));
    }

    public string Folder { get; }

    public TimeSpan Elapsed => _clock.Elapsed;

    public int ExitCode => _process.ExitCode;

    public static LocalRun Start(string folder, params string[] arguments) => Start(folder, new Dictionary<string, string>(), arguments);

    /// <summary>As <see cref="Start(string, string[])"/> with extra environment variables, which the run's
    /// coordinator and worker processes inherit.</summary>
    public static LocalRun Start(string folder, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "plateau"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        foreach (var argument in new[] { "local", "--plain", "--dir", folder }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        return new LocalRun(Process.Start(start)!, folder);
    }

    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines.Select(l => l.Text));
            }
        }
    }

    /// <summary>When the first line containing <paramref name="text"/> arrived, if it has.</summary>
    public TimeSpan? LineAt(string text)
    {
        lock (_lines)
        {
            var hit = _lines.FindIndex(l => l.Text.Contains(text, StringComparison.Ordinal));
            return hit >= 0 ? _lines[hit].At : null;
        }
    }

    public async Task<TimeSpan> WaitForLineAsync(string text, TimeSpan limit)
    {
        var until = _clock.Elapsed + limit;
        while (true)
        {
            if (LineAt(text) is { } at)
            {
                return at;
            }

            if (_process.HasExited && _stdout.IsCompleted && _stderr.IsCompleted)
            {
                throw new InvalidOperationException($"plateau local exited ({_process.ExitCode}) without printing '{text}':\n{Output}\n{Logs()}");
            }

            if (_clock.Elapsed > until)
            {
                throw new TimeoutException($"plateau local printed no '{text}' within {limit}:\n{Output}\n{Logs()}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits until a committed checkpoint file exists.</summary>
    public async Task WaitForCheckpointAsync(TimeSpan limit)
    {
        var folder = Path.Combine(Folder, "checkpoints");
        var until = _clock.Elapsed + limit;
        while (!Directory.Exists(folder) || Directory.GetFiles(folder, "*.ckpt", SearchOption.AllDirectories).Length == 0)
        {
            Assert.False(_process.HasExited, $"plateau local exited before its first checkpoint:\n{Output}\n{Logs()}");
            Assert.True(_clock.Elapsed < until, $"no checkpoint within {limit}:\n{Output}\n{Logs()}");
            await Task.Delay(50);
        }
    }

    /// <summary>The process id of the child started with <c>--Plateau:Worker:WorkerId=<paramref name="workerId"/></c>.</summary>
    public int WorkerPid(string workerId) => ChildPid(workerId, arguments => arguments.Contains($"--Plateau:Worker:WorkerId={workerId}"));

    /// <summary>The process id of the run's <c>plateau coordinator</c> child.</summary>
    public int CoordinatorPid() => ChildPid("coordinator", arguments => Array.IndexOf(arguments, "--exit-with") is var at && at > 0 && arguments[at - 1] == "coordinator");

    private int ChildPid(string what, Func<string[], bool> matches)
    {
        var parent = _process.Id.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            string[] arguments;
            try
            {
                arguments = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            var exitWith = Array.IndexOf(arguments, "--exit-with");
            if (exitWith >= 0 && exitWith + 1 < arguments.Length && arguments[exitWith + 1] == parent && matches(arguments))
            {
                return pid;
            }
        }

        throw new InvalidOperationException($"no {what} process of plateau local {parent} found:\n{Output}\n{Logs()}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan limit)
    {
        using var cancel = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"plateau local did not end within {limit}:\n{Output}\n{Logs()}");
        }

        await Task.WhenAll(_stdout, _stderr);
        return _process.ExitCode;
    }

    public string Logs() => string.Join("\n", Directory.Exists(Path.Combine(Folder, "logs"))
        ? Directory.GetFiles(Path.Combine(Folder, "logs")).Select(f => $"--- {f}\n{string.Join('\n', File.ReadLines(f).TakeLast(40))}")
        : []);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task ReadAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_lines)
            {
                _lines.Add((_clock.Elapsed, line));
            }
        }
    }
}
