using System.Diagnostics;

namespace Plateau.Deploy.Tests;

/// <summary>Runs a command-line tool the deployment checks use (kubectl, yamllint) and captures its output.</summary>
internal static class Tool
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            var how = file == "kubectl"
                ? "scripts/install-kubectl.sh installs it (its built-in kustomize must be v5 or newer; Debian's kubernetes-client 1.20 is too old)"
                : "scripts/install-test-deps.sh installs it";
            throw new InvalidOperationException($"{file} is not installed ({e.Message}); {how}", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            // Generous: kubectl kustomize renders in well under a second, but CI machines are saturated.
            if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', arguments)} ran for more than 3 minutes");
            }

            return new Result(process.ExitCode, output.Result, error.Result);
        }
    }
}
