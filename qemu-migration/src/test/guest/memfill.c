/*
 * memfill: a tiny multiboot guest for capturing migration fixtures.
 *
 * It fills guest memory with content of known kinds (text, pseudo-random, repeated bytes,
 * sparse pages; the rest stays zero), prints DWCP-READY on the first serial port, then keeps
 * rewriting a few bytes in a set of pages so that migrations need several passes and XBZRLE has
 * deltas to encode. A Linux guest would put ~50 MB of kernel into every capture; this one keeps
 * the fixtures a few hundred KB while the stream format stays exactly QEMU's.
 *
 * Build: see build-guest.sh. Runs in 32-bit protected mode without paging, as multiboot leaves it.
 */
#define MB_MAGIC 0x1BADB002u
#define MB_FLAGS 0x00000002u

__attribute__((section(".multiboot"), used, aligned(4)))
static const unsigned int multiboot_header[3] = { MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS) };

unsigned char stack[16384] __attribute__((aligned(16), used));

__asm__(".text\n.global _start\n_start:\n"
        "  mov $stack+16384, %esp\n"
        "  call guest_main\n"
        "1: hlt\n  jmp 1b\n");

#define PAGE 4096u
#define MIB (1024u * 1024u)

static inline void outb(unsigned short port, unsigned char value) {
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static void serial_write(const char *s) {
    while (*s) {
        outb(0x3f8, (unsigned char) *s++);
    }
}

static unsigned int xorshift(unsigned int *state) {
    unsigned int x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

static void fill_text(unsigned char *p, unsigned int page_number) {
    static const char line[] = "dwcp guest memory: the quick brown fox jumps over the lazy dog #";
    unsigned int i = 0;
    while (i < PAGE) {
        for (unsigned int j = 0; j < sizeof line - 1 && i < PAGE; j++) {
            p[i++] = (unsigned char) line[j];
        }
        for (unsigned int d = 100000; d > 0 && i < PAGE; d /= 10) {
            p[i++] = (unsigned char) ('0' + (page_number / d) % 10);
        }
        if (i < PAGE) {
            p[i++] = '\n';
        }
    }
}

void guest_main(void) {
    unsigned int seed = 0x2545F491u;
    /* 2..6 MiB: text pages, each with its own number. */
    for (unsigned int a = 2 * MIB; a < 6 * MIB; a += PAGE) {
        fill_text((unsigned char *) a, a / PAGE);
    }
    /* 6 MiB + 256 KiB: pseudo-random pages (incompressible). */
    for (unsigned int a = 6 * MIB; a < 6 * MIB + 256 * 1024; a += 4) {
        *(volatile unsigned int *) a = xorshift(&seed);
    }
    /* 8..10 MiB: pages of one repeated byte, 16 distinct values. */
    for (unsigned int a = 8 * MIB; a < 10 * MIB; a += PAGE) {
        unsigned char v = (unsigned char) (0x11 * ((a / PAGE) % 16) + 1);
        for (unsigned int i = 0; i < PAGE; i++) {
            ((volatile unsigned char *) a)[i] = v;
        }
    }
    /* 12..16 MiB: sparse pages, a single non-zero byte at a varying place. */
    for (unsigned int a = 12 * MIB; a < 16 * MIB; a += PAGE) {
        ((volatile unsigned char *) a)[(a / PAGE * 37) % PAGE] = 0xA5;
    }
    serial_write("DWCP-READY\n");
    /* Keep dirtying 512 text pages, a few bytes at a time, at a bounded rate. */
    for (unsigned int round = 0;; round++) {
        for (unsigned int k = 0; k < 512; k++) {
            volatile unsigned char *p = (volatile unsigned char *) (2 * MIB + k * 8 * PAGE);
            unsigned int at = (round * 64 + k * 8) % (PAGE - 8);
            for (unsigned int i = 0; i < 8; i++) {
                p[at + i] = (unsigned char) ('A' + (round + i) % 26);
            }
            for (volatile unsigned int spin = 0; spin < 2000; spin++) {
            }
        }
    }
}
