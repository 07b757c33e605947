package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func (a *app) configCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Work with pipecast.yaml"}
	var force bool
	initCmd := &cobra.Command{
		Use:   "init [FILE]",
		Short: "Write a commented default configuration (default ./pipecast.yaml)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "pipecast.yaml"
			if len(args) == 1 {
				path = args[0]
			}
			if _, err := os.Stat(path); err == nil && !force {
				return usagef("%s exists; pass --force to overwrite it", path)
			}
			text, err := defaultConfigFile()
			if err != nil {
				return err
			}
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s\n", path)
			return nil
		},
	}
	initCmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the configuration in effect (file over defaults)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src := a.cfgFile
			if src == "" {
				src = "defaults (no pipecast.yaml)"
			}
			fmt.Fprintf(a.stdout, "# from %s\n", src)
			return yamlEncode(a.stdout, a.cfg)
		},
	}
	cmd.AddCommand(initCmd, show)
	return cmd
}
