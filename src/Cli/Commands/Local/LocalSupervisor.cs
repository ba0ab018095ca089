using System.Diagnostics;
using System.Globalization;

namespace Plateau.Cli.Commands.Local;

/// <summary>
/// The child processes of <c>plateau local</c> (this binary with a subcommand), their logs and their
/// process trees. A worker that dies while the job runs is started again with the same arguments, as
/// torchrun's <c>--max-restarts</c> does: counted, bounded, and announced. The restarted worker registers
/// under the same id, and the coordinator admits it at the next generation. A coordinator that dies is
/// started again on the same ports and state folder together with every worker, because the workers' silos
/// belonged to the cluster whose primary silo it was (Orleans would have them abort on their own); the job
/// continues from its persisted state and last checkpoint. Children also stop by themselves if this process
/// dies (<see cref="ParentProcess"/>).
/// </summary>
internal sealed class LocalSupervisor(string logDirectory, string workingDirectory, int maxRestarts, int maxCoordinatorRestarts, Action<string> notice) : IAsyncDisposable
{
    private static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(1);
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Child> _children = [];
    private readonly List<Task> _restarts = [];
    private volatile bool _stopping;
    private int _restartCount;
    private int _coordinatorRestartCount;

    /// <summary>Worker processes started again after they died on their own so far.</summary>
    public int Restarts => Volatile.Read(ref _restartCount);

    /// <summary>Times the coordinator (and with it every worker) was started again so far.</summary>
    public int CoordinatorRestarts => Volatile.Read(ref _coordinatorRestartCount);

    /// <summary>Starts a child; <paramref name="environment"/> carries what must not show on a command line (tokens).</summary>
    public void Start(string name, LocalChildRole role, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var log = new StreamWriter(Path.Combine(logDirectory, name + ".log"), append: false) { AutoFlush = true };
        Launch(new Child(name, arguments, role, log, environment ?? new Dictionary<string, string>()));
    }

    public string LogOf(string name) => Path.Combine(logDirectory, name + ".log");

    /// <summary>The exit code of <paramref name="name"/> if it has exited and the supervisor decided not to start it
    /// again. Null while that decision is pending: the process's exit event can arrive well after
    /// <see cref="Process.HasExited"/> turns true on a busy machine, and a caller must not read that gap as final.</summary>
    public int? Exited(string name)
    {
        lock (_lock)
        {
            return _children.TryGetValue(name, out var child) && child.Process.HasExited && child.ExitHandled && !child.Restarting ? child.Process.ExitCode : null;
        }
    }

    /// <summary>From now on a child that exits stays down (the job ended, or the run is interrupted).</summary>
    public void StopRestarting() => _stopping = true;

    public async Task WaitForExitAsync(Func<string, bool> which, TimeSpan timeout)
    {
        StopRestarting();
        Task[] restarts;
        lock (_lock)
        {
            restarts = [.. _restarts];
        }

        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await Task.WhenAll(restarts).WaitAsync(limit.Token);
            Process[] processes;
            lock (_lock)
            {
                processes = [.. _children.Where(c => which(c.Key)).Select(c => c.Value.Process)];
            }

            await Task.WhenAll(processes.Select(p => p.WaitForExitAsync(limit.Token)));
        }
        catch (OperationCanceledException)
        {
            // the rest is killed on dispose
        }
    }

    public async ValueTask DisposeAsync()
    {
        StopRestarting();
        Child[] children;
        lock (_lock)
        {
            children = [.. _children.Values];
        }

        foreach (var child in children)
        {
            try
            {
                if (!child.Process.HasExited)
                {
                    child.Process.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
        }

        foreach (var child in children)
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await child.Process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                // reported by the OS as a zombie at worst; nothing else to do
            }

            lock (child.Log)
            {
                child.Log.Dispose();
            }

            child.Process.Dispose();
        }

        lock (_lock)
        {
            _children.Clear();
        }
    }

    /// <summary>How an exit code reads: .NET reports a child killed by signal N as 128 + N.</summary>
    public static string DescribeExit(int code) => code > 128 && code < 160
        ? string.Create(CultureInfo.InvariantCulture, $"was killed by signal {code - 128}")
        : string.Create(CultureInfo.InvariantCulture, $"exited with code {code}");

    private void Launch(Child child)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which executable this is");
        var start = new ProcessStartInfo(self)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The run folder: no stray appsettings.json is picked up; every setting is an argument.
            WorkingDirectory = workingDirectory,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(LocalSupervisor).Assembly.Location);
        }

        foreach (var argument in child.Arguments.Take(1))
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("--exit-with");
        start.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        foreach (var argument in child.Arguments.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (variable, value) in child.Environment)
        {
            start.Environment[variable] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Write(child.Log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(child.Log, e.Data);
        process.Exited += (_, _) => OnExited(child, process);
        lock (_lock)
        {
            child.Process = process;
            child.Restarting = false;
            child.ExitHandled = false;
            _children[child.Name] = child;
            process.Start();
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private void OnExited(Child child, Process process)
    {
        int code;
        try
        {
            code = process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            Handled(child, process);
            return;
        }

        if (_stopping || code == 0)
        {
            Handled(child, process);
            return;
        }

        lock (_lock)
        {
            try
            {
                Decide(child, process, code);
            }
            finally
            {
                if (ReferenceEquals(child.Process, process))
                {
                    child.ExitHandled = true;
                }
            }
        }
    }

    private void Handled(Child child, Process process)
    {
        lock (_lock)
        {
            if (ReferenceEquals(child.Process, process))
            {
                child.ExitHandled = true;
            }
        }
    }

    /// <summary>Under the lock: start <paramref name="child"/> again, with the cluster when it is the coordinator, or say why not.</summary>
    private void Decide(Child child, Process process, int code)
    {
        if (_stopping || !ReferenceEquals(child.Process, process) || child.Restarting)
        {
            return; // a worker the coordinator's restart is replacing
        }

        if (child.Role == LocalChildRole.Coordinator)
        {
            RestartCluster(child, code);
            return;
        }

        if (_restartCount >= maxRestarts)
        {
            notice($"{child.Name} {DescribeExit(code)}; not started again: all {maxRestarts} worker restarts are used (--max-worker-restarts)");
            return;
        }

        _restartCount++;
        child.Restarting = true;
        notice($"{child.Name} {DescribeExit(code)}; starting it again (worker restart {_restartCount} of {maxRestarts})");
        Write(child.Log, $"---- plateau local: {child.Name} {DescribeExit(code)}; restart {_restartCount} of {maxRestarts} ----");
        _restarts.Add(Task.Run(async () =>
        {
            await Task.Delay(RestartDelay);
            if (!_stopping)
            {
                Launch(child);
            }
            else
            {
                child.Restarting = false;
            }
        }));
    }

    /// <summary>Under the lock: the coordinator died; start it again, then every worker (killed first).</summary>
    private void RestartCluster(Child coordinator, int code)
    {
        if (_coordinatorRestartCount >= maxCoordinatorRestarts)
        {
            notice($"{coordinator.Name} {DescribeExit(code)}; not started again: all {maxCoordinatorRestarts} coordinator restarts are used (--max-coordinator-restarts)");
            return;
        }

        _coordinatorRestartCount++;
        // A worker already waiting to be started again is launched by its own restart.
        var workers = _children.Values.Where(c => c.Role == LocalChildRole.Worker && !c.Restarting).ToList();
        foreach (var child in workers.Prepend(coordinator))
        {
            child.Restarting = true;
        }

        notice($"{coordinator.Name} {DescribeExit(code)}; starting it again with every worker, whose silos belonged to its cluster (coordinator restart {_coordinatorRestartCount} of {maxCoordinatorRestarts})");
        Write(coordinator.Log, $"---- plateau local: {coordinator.Name} {DescribeExit(code)}; coordinator restart {_coordinatorRestartCount} of {maxCoordinatorRestarts} ----");
        _restarts.Add(Task.Run(async () =>
        {
            foreach (var worker in workers)
            {
                Write(worker.Log, $"---- plateau local: stopped and started again with the coordinator ----");
                await StopAsync(worker.Process);
            }

            await Task.Delay(RestartDelay);
            if (_stopping)
            {
                workers.Prepend(coordinator).ToList().ForEach(c => c.Restarting = false);
                return;
            }

            Launch(coordinator);
            await Task.Delay(RestartDelay); // the primary silo first: workers join its cluster
            foreach (var worker in workers)
            {
                if (_stopping)
                {
                    worker.Restarting = false;
                    continue;
                }

                Launch(worker);
            }
        }));
    }

    private static async Task StopAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await process.WaitForExitAsync(limit.Token);
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            // gone already, or a zombie the OS reaps later
        }
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // the child outlived its log by a line
            }
        }
    }

    private sealed class Child(string name, IReadOnlyList<string> arguments, LocalChildRole role, StreamWriter log, IReadOnlyDictionary<string, string> environment)
    {
        public IReadOnlyDictionary<string, string> Environment { get; } = environment;

        public string Name { get; } = name;

        public IReadOnlyList<string> Arguments { get; } = arguments;

        public LocalChildRole Role { get; } = role;

        public StreamWriter Log { get; } = log;

        public Process Process { get; set; } = null!;

        public volatile bool Restarting;

        /// <summary>The supervisor has seen the current process's exit and decided about it.</summary>
        public volatile bool ExitHandled;
    }
}
