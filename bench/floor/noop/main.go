// Command noop does nothing: the cost of starting a static Go program,
// from exec to exit, which every run of netns-daemon-start pays too.
package main

func main() {}
