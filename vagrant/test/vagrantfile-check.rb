# Evaluates ../Vagrantfile without Vagrant (a stand-in records what it configures) and prints
# the machines as "NAME key=value ..." lines: what VagrantfileTest checks. Usage:
#   ruby vagrant/test/vagrantfile-check.rb vagrant/Vagrantfile
class Recorder
  attr_reader :calls
  def initialize(path = [])
    @path = path
    @calls = []
  end

  def method_missing(name, *args, **kwargs, &block)
    key = name.to_s
    if key.end_with?("=")
      @calls << [(@path + [key.chomp("=")]).join("."), args.first]
      return args.first
    end
    child = Recorder.new(@path + [key])
    @calls << [(@path + [key]).join("."), args, kwargs]
    block&.call(child)
    @calls.concat(child.calls)
    child
  end

  def respond_to_missing?(*) = true
end

module Vagrant
  MACHINES = {}
  def self.configure(_version)
    config = Recorder.new
    vm = Recorder.new(["vm"])
    config.define_singleton_method(:vm) { vm }
    vm.define_singleton_method(:define) do |name, &block|
      host = Recorder.new
      host_vm = Recorder.new(["vm"])
      host.define_singleton_method(:vm) { host_vm }
      block.call(host)
      MACHINES[name] = host_vm.calls
    end
    yield config
    MACHINES[:common] = vm.calls + config.calls
  end
end

load ARGV.fetch(0)
Vagrant::MACHINES.each do |name, calls|
  next if name == :common
  networks = calls.select { |c| c[0] == "vm.network" }.map { |c| "#{c[2][:ip]}@#{c[2][:libvirt__network_name]}" }
  provision = calls.find { |c| c[0] == "vm.provision" }
  args = provision ? provision[2][:args] : []
  hostname = calls.find { |c| c[0] == "vm.hostname" }&.last
  puts "#{name} hostname=#{hostname} networks=#{networks.join(',')} provision=#{provision && provision[2][:path]} args=#{args.join(' ')}"
end
common = Vagrant::MACHINES[:common]
puts "common box=#{common.find { |c| c[0] == 'vm.box' }&.last}"
