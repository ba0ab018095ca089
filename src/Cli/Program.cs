using Plateau.Cli;

return PlateauCommand.Build().Parse(args).Invoke();
